"""Patient API: read and write patient records (PHI) behind API Gateway."""

import hashlib
import json
import logging
import os

import boto3

logger = logging.getLogger()
logger.setLevel(logging.INFO)
table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def record_etag(record: dict) -> str:
    # Flaw: MD5 used as a content fingerprint (weak hash; bandit B324)
    return hashlib.md5(json.dumps(record, sort_keys=True).encode()).hexdigest()


def lambda_handler(event, context):
    # Flaw: the whole event, PHI included, goes to CloudWatch Logs
    logger.info("request: %s", event)
    patient_id = event["pathParameters"]["patient_id"]
    if event["httpMethod"] == "PUT":
        body = json.loads(event["body"])
        body["patient_id"] = patient_id
        table.put_item(Item=body)
        return {"statusCode": 204, "body": ""}
    item = table.get_item(Key={"patient_id": patient_id}).get("Item")
    if item is None:
        return {"statusCode": 404, "body": json.dumps({"error": "not found"})}
    return {"statusCode": 200, "headers": {"ETag": record_etag(item)}, "body": json.dumps(item, default=str)}
