"""`evaluate` metric module folder; an __init__ so that setuptools ships the script with the package."""
