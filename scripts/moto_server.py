"""moto's server mode, with DynamoDB's requests taken one at a time.

DynamoDB commits a transaction atomically and serialises the writes to one item; moto's
threaded server does neither. Its TransactWriteItems copies the whole table first and, when
a condition fails, puts that copy back: a write that another thread committed in between
is lost. Two deliveries of one order racing in one SQS batch (the very race the intake
resolves) then lose the order on moto, and never on DynamoDB. This wrapper gives moto
DynamoDB's guarantee by handling DynamoDB and DynamoDB Streams requests under one lock
(they are quick; SQS long polls and everything else stay concurrent), then starts moto's
own server with the same arguments as `moto_server`.
"""

import sys
import threading

from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.server import main

_one_at_a_time = threading.RLock()


def _serialised(handler):
    call_action = handler.call_action

    def one_at_a_time(self):
        with _one_at_a_time:
            return call_action(self)

    handler.call_action = one_at_a_time


_serialised(DynamoHandler)
_serialised(DynamoDBStreamsHandler)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
