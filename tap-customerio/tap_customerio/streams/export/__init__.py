"""Customer.io's data-warehouse export (v4 parquet files) rebuilt from the App API.

Customer.io's Premium export writes `deliveries`, `metrics`, `subjects`, `outputs`, `content`, `people` and
`attributes` files: the first sync holds all history, later syncs hold only what changed since the previous
one. These streams give the same tables wherever the App API exposes the data (subjects and outputs, the
workflow journeys, are not exposed), so loaders built on the export keep working.

One module per table holds its row builders (pure functions from API-shaped dicts, as the App API sends them,
to export rows; every mapping decision, tested directly) and its stream, next to the table's schema
(`<table>.json`). A stream reads through the tap streams it holds (`sources.py`), keeps only what changed after
its bookmark (the export's changesets must not repeat rows, unlike the tap's lookback re-reads) and stamps a
`seq_num` that grows across runs (`base.py`).
"""

from tap_customerio.streams.export.attributes import AttributesStream
from tap_customerio.streams.export.content import ContentStream
from tap_customerio.streams.export.deliveries import DeliveriesStream
from tap_customerio.streams.export.metrics import MetricsStream
from tap_customerio.streams.export.people import PeopleStream

#: The export streams, in the order the tap registers them.
EXPORT_STREAM_TYPES = (DeliveriesStream, MetricsStream, PeopleStream, AttributesStream, ContentStream)
