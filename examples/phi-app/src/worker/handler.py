"""Lab results worker: consumes SQS messages and attaches lab results to patient records."""

import base64
import os
import pickle

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def lambda_handler(event, context):
    for record in event["Records"]:
        # Flaw: deserialising queue input with pickle (arbitrary code execution; bandit B301)
        result = pickle.loads(base64.b64decode(record["body"]))
        table.update_item(
            Key={"patient_id": result["patient_id"]},
            UpdateExpression="SET lab_results = list_append(if_not_exists(lab_results, :empty), :r)",
            ExpressionAttributeValues={":r": [result["lab"]], ":empty": []},
        )
    return {"processed": len(event["Records"])}
