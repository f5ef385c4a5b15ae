"""The report's figures in formats other tools scrape (Prometheus text exposition)."""
