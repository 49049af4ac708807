"""The names of the order workflow's activities in Temporal, as its histories record them.

The activities are registered under these names, and operators' tools read histories by them (a
call's meaning on the timeline, the update a reset goes back to): a name changed here changes
both, and histories in flight keep the old one.
"""

CREATE_INVITATION = "create_invitation"
GET_VENDOR_STATUS = "get_vendor_status"
POLL = "await_vendor_change"
READ_RESULT = "get_vendor_result"
CANCEL_INVITATION = "cancel_invitation"
ABANDON_INVITATION = "abandon_invitation"
RESEND_INVITATION = "resend_invitation"
TRANSFER_REPORT = "transfer_report"
POST_TO_SMARTRECRUITERS = "update_smartrecruiters"
POST_ONCE_SMARTRECRUITERS_LISTENS = "update_smartrecruiters_once_it_listens"
