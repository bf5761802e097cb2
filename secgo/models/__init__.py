"""The data model; import every entity from here."""
from .audit import AuditEvent
from .base import UTCDateTime, utcnow
from .channel import CHANNELS, ChannelDelivery, ChannelLink
from .document import CHECKED_STATUSES, DOCUMENT_TYPES, CrossingRequirement, Document
from .issue import CATEGORIES, OPEN_STATES, SEVERITIES, STATES, Issue, IssueComment, IssueEvent
from .misc import Attachment, IdempotencyKey, Notification, PushDelivery, PushSubscription, Reminder
from .order import (
    BORDER_CROSSINGS,
    CONDITIONS,
    CURRENCIES,
    FINAL_STATUSES,
    REFERENCE_MAX,
    STATUSES,
    UPDATE_KINDS,
    DeliveryConfirmation,
    Order,
    StatusUpdate,
    TrackingLink,
)
from .matching import (
    FOLLOW_UP_MONTHS, MATCH_STAGES, STAGES as MATCH_WAY, Match, MatchFollowUp, MatchingEvent, MatchStep,
)
from .org import COUNTRIES, ORG_KINDS, Cluster, Organization
from .org import cluster_coordinators as cluster_coordinators_table
from .profile import (CERT_KINDS, COUNTRY_LANGUAGE, MARKETS, SPOKEN, Enquiry, EnquiryMessage,
                      Profile, ProfileCertification, ProfileProduct,
                      ClusterProfile)
from .promptness import PromptnessRollup, RollupState, RouteTime
from .readmark import READ_KINDS, ReadMark
from .user import ROLES, ApiToken, Invite, User, UserSession, hash_token, new_token

__all__ = [
    "ApiToken", "ClusterProfile", "CERT_KINDS", "COUNTRY_LANGUAGE", "Enquiry", "EnquiryMessage", "MARKETS", "Profile",
    "ProfileCertification", "ProfileProduct", "SPOKEN", "AuditEvent", "Attachment", "BORDER_CROSSINGS", "CATEGORIES", "CHANNELS",
    "CHECKED_STATUSES", "ChannelDelivery", "CrossingRequirement", "DOCUMENT_TYPES", "Document", "ChannelLink", "CONDITIONS", "COUNTRIES",
    "CURRENCIES", "Cluster", "DeliveryConfirmation", "FINAL_STATUSES", "IdempotencyKey",
    "FOLLOW_UP_MONTHS", "Invite", "Issue", "MATCH_STAGES", "MATCH_WAY", "Match", "MatchFollowUp",
    "MatchStep", "MatchingEvent", "IssueComment", "IssueEvent", "Notification", "OPEN_STATES", "ORG_KINDS",
    "Order", "READ_KINDS", "REFERENCE_MAX", "ReadMark",
    "Organization", "PromptnessRollup", "PushDelivery", "PushSubscription", "ROLES", "Reminder", "RollupState",
    "RouteTime", "SEVERITIES", "STATES", "STATUSES",
    "StatusUpdate", "TrackingLink", "UPDATE_KINDS", "UTCDateTime", "User", "UserSession", "cluster_coordinators_table", "hash_token",
    "new_token", "utcnow",
]
