"""The Streamlit dashboard: ``streamlit run dashboards/app.py`` or ``ropa dashboard``."""
