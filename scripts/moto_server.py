"""moto's server mode, with DynamoDB's requests taken one at a time.

DynamoDB commits a transaction atomically and serialises the writes to one item; moto's
threaded server does neither. Its TransactWriteItems copies the whole table first and, when
a condition fails, puts that copy back: a write that another thread committed in between
is lost. Two deliveries of one order racing in one SQS batch (the very race the intake
resolves) then lose the order on moto, and never on DynamoDB. This wrapper gives moto
DynamoDB's guarantee by handling DynamoDB and DynamoDB Streams requests under one lock
(they are quick; SQS long polls and everything else stay concurrent), then starts moto's
own server with the same arguments as `moto_server`.

It also lets `/moto-api/data.json?service=ses` list one service's records only: moto
builds the whole dump from live state, every DynamoDB item and stream record included,
which takes seconds once a run has stored tens of thousands of items, while the tests
only read the mail SES took. Without the parameter the dump is moto's own.

And it makes moto's TransactWriteItems back each table up once, not once per item: moto
deep-copies the whole table for every item of a transaction (all before its first
write), so a sweep's transaction of ninety items on a table of a few hundred took
half a minute per attempt, past the SDK's operation timeout. One copy per table, taken
at the same moment, is the same backup.
"""

import copy
import json
import sys
import threading

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.moto_api._internal.responses import MotoAPIResponse
from moto.server import main

_one_at_a_time = threading.RLock()


def _serialised(handler):
    call_action = handler.call_action

    def one_at_a_time(self):
        with _one_at_a_time:
            return call_action(self)

    handler.call_action = one_at_a_time


def _one_backup_per_table(backend):
    transact = backend.transact_write_items

    def backed_up_once(self, transact_items):
        copies = {}

        class OneCopyPerTable:
            @staticmethod
            def deepcopy(value, memo=None):
                if not isinstance(value, Table):
                    return copy.deepcopy(value, memo)
                if id(value) not in copies:
                    copies[id(value)] = copy.deepcopy(value, memo)
                return copies[id(value)]

        # DynamoDB requests run one at a time (above), so the module's `copy` can be
        # swapped for the length of one transaction.
        dynamodb_models.copy = OneCopyPerTable
        try:
            return transact(self, transact_items)
        finally:
            dynamodb_models.copy = copy

    backend.transact_write_items = backed_up_once


def _filtered(model_data):
    def one_service(self, request, full_url, headers):
        from urllib.parse import parse_qs, urlparse

        from moto.core.model_instances import model_data as services

        wanted = parse_qs(urlparse(full_url).query).get("service")
        if not wanted:
            return model_data(self, request, full_url, headers)
        results = {}
        for service in sorted(s for s in services if s in wanted):
            results[service] = {}
            for name, model in sorted(services[service].items()):
                results[service][name] = []
                for instance in list(model.instances_tracked):
                    fields = {}
                    for attr in dir(instance):
                        if attr.startswith("_"):
                            continue
                        try:
                            value = getattr(instance, attr)
                            json.dumps(value)
                        except (TypeError, AttributeError, ValueError):
                            continue
                        fields[attr] = value
                    results[service][name].append(fields)
        return 200, {"Content-Type": "application/javascript"}, json.dumps(results)

    return one_service


MotoAPIResponse.model_data = _filtered(MotoAPIResponse.model_data)
_serialised(DynamoHandler)
_serialised(DynamoDBStreamsHandler)
_one_backup_per_table(DynamoDBBackend)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
