"""Command-line application and demo data of the ROPA catalogue."""
