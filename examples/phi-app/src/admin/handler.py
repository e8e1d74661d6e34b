"""Admin automation: nightly export of patient data to the export bucket."""

import os
import subprocess

EXPORT_BUCKET = os.environ.get("EXPORT_BUCKET", "")
# Flaw: a hard-coded credential (bandit B105)
ADMIN_TOKEN = "s3cr3t-admin-token"


def lambda_handler(event, context):
    day = event.get("day", "today")
    # Flaw: a shell command built from event input (command injection; bandit B602)
    cmd = f"aws s3 sync /tmp/export-{day} s3://{EXPORT_BUCKET}/{day} --sse aws:kms"
    subprocess.run(cmd, shell=True, check=True)
    return {"exported": day, "token_used": bool(ADMIN_TOKEN)}
