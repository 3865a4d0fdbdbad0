"""Screening clinicians against exclusion lists and the NPI registry (domain code only)."""
