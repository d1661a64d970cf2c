"""wirestance: news-agency ingestion and actor-stance classification."""

__version__ = "0.1.0"
