"""Route modules by resource; each exposes a module-level `router` that review.app includes."""
