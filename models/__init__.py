"""The credential database: SQLAlchemy 2 models, sessions, migrations and shared queries.

Imports nothing else of credflow's; every other part builds on it.
"""

import models.compliance
import models.compliance_status
import models.learned_layout
import models.records
import models.screening
import models.search  # the search_terms table; its hook: Database
import models.verification  # noqa: F401
from models.audit import AuditDetail, AuditEvent, record_event
from models.base import Base
from models.credential import Credential
from models.db import Database
from models.document import (
    Document,
    DocumentArrival,
    DocumentField,
    DocumentPage,
    DocumentStatus,
)
from models.layout import StoreLayout
from models.provider import Provider
from models.user import ApiToken, Role, User, WebSession

__all__ = [
    "ApiToken",
    "AuditDetail",
    "AuditEvent",
    "Base",
    "Credential",
    "Database",
    "Document",
    "DocumentArrival",
    "DocumentField",
    "DocumentPage",
    "DocumentStatus",
    "Provider",
    "Role",
    "StoreLayout",
    "User",
    "WebSession",
    "record_event",
]
