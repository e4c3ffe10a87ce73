"""Logging filters the settings wire in."""

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """A 4xx answer (a refused permission, a bad lookup) is expected: its log line stays, its
    traceback goes. 5xx answers keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
