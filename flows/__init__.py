"""Prefect flows: thin orchestration over the plain functions in wirestance/ and classifiers/."""
