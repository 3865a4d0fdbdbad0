"""Exclusion lists and the NPI registry as their agencies publish them: recognised by their
header, streamed, and imported with a record of every import (see `importer.import_file`)."""
