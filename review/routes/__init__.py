"""Route modules by resource: each a module-level `APIRouter`, included by `review.app`."""
