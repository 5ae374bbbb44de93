"""Sensor-caption data: caption generation, corpora, labelled evaluation sets."""
