"""Seeded synthetic data: US plates (`plates`) and what a car camera does to them (`camera`)."""
