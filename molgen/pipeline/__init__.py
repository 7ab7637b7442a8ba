"""A campaign round's stages and the factory that builds their components from config."""
