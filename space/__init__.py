"""The demo Space's files, installed as `slip_sensor.space` (package data) so that `slip export --space` finds them in
any installation of the package (`slip_sensor.space_export`): `app.py`, `README.md` (the Space's metadata) and
`examples/`. From a source checkout, `python space/app.py` runs the app."""
