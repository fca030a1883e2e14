"""Drills: a YAML file (chaos/drill.schema.json) -> `loader.load_drill` -> `runner.DrillRunner` -> reports."""
