"""Core of the ROPA catalogue: models, store, migrations, taxonomy, jurisdictions, graph, transfers."""
