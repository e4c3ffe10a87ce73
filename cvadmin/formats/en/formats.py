"""Times as operators compare them with logs: UTC, with seconds and the zone."""

DATETIME_FORMAT = "Y-m-d H:i:s e"
SHORT_DATETIME_FORMAT = "Y-m-d H:i:s e"
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i:s"
