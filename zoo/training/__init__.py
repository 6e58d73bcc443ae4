"""The one training loop (`model.fit`) shared by every model, recipe and backend."""
