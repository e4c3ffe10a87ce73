"""Expected 4xx answers are logged without a traceback."""

import logging

from cvsite.log_filters import ClientErrorsWithoutTraceback


def test_client_errors_are_logged_without_traceback():
    keep = ClientErrorsWithoutTraceback()
    for status, kept in ((403, False), (400, False), (500, True)):
        record = logging.LogRecord("django.request", logging.WARNING, "", 0, "x", (), None)
        record.status_code = status
        record.exc_info = (PermissionError, PermissionError(), None)
        assert keep.filter(record)
        assert (record.exc_info is not None) == kept
