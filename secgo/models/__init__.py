"""The data model; import every entity from here."""
from .audit import AuditEvent
from .base import UTCDateTime, utcnow
from .channel import CHANNELS, ChannelDelivery, ChannelLink
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
from .org import COUNTRIES, ORG_KINDS, Cluster, Organization
from .org import cluster_coordinators as cluster_coordinators_table
from .profile import (CERT_KINDS, COUNTRY_LANGUAGE, MARKETS, SPOKEN, Enquiry, EnquiryMessage,
                      Profile, ProfileCertification, ProfileProduct)
from .promptness import PromptnessRollup, RollupState, RouteTime
from .readmark import READ_KINDS, ReadMark
from .user import ROLES, ApiToken, Invite, User, UserSession, hash_token, new_token

__all__ = [
    "ApiToken", "CERT_KINDS", "COUNTRY_LANGUAGE", "Enquiry", "EnquiryMessage", "MARKETS", "Profile",
    "ProfileCertification", "ProfileProduct", "SPOKEN", "AuditEvent", "Attachment", "BORDER_CROSSINGS", "CATEGORIES", "CHANNELS",
    "ChannelDelivery", "ChannelLink", "CONDITIONS", "COUNTRIES",
    "CURRENCIES", "Cluster", "DeliveryConfirmation", "FINAL_STATUSES", "IdempotencyKey",
    "Invite", "Issue", "IssueComment", "IssueEvent", "Notification", "OPEN_STATES", "ORG_KINDS",
    "Order", "READ_KINDS", "REFERENCE_MAX", "ReadMark",
    "Organization", "PromptnessRollup", "PushDelivery", "PushSubscription", "ROLES", "Reminder", "RollupState",
    "RouteTime", "SEVERITIES", "STATES", "STATUSES",
    "StatusUpdate", "TrackingLink", "UPDATE_KINDS", "UTCDateTime", "User", "UserSession", "cluster_coordinators_table", "hash_token",
    "new_token", "utcnow",
]
