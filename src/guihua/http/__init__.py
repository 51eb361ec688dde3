"""The HTTP service: a thin FastAPI adapter over guihua.usecases (issue 3, in progress)."""
