"""`molgen serve`: a read-only web app over the candidate store (FastAPI, server-rendered
templates, a little plain JavaScript, vendored 3Dmol.js; nothing loaded from the network)."""
