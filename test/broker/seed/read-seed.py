#!/usr/bin/python3
# Reads NoCloud seeds as the guest's cloud-init does, with cloud-init's own code (Debian's
# cloud-init package): one JSON seed per line on stdin ({metaData, userData, networkConfig}), one
# JSON line out per seed with the files as YAML gives them, user-data split into its MIME parts,
# and each #cloud-config part checked against cloud-init's schema (strict: an error is an error).
import email
import json
import sys

import yaml
from cloudinit.config.schema import SchemaValidationError, get_schema, validate_cloudconfig_schema

schema = get_schema()


def cloud_config(text):
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        return None, "not YAML: %s" % e
    try:
        validate_cloudconfig_schema(doc, schema, strict=True)
        problem = None
    except SchemaValidationError as e:
        problem = str(e)
    return doc, problem


for line in sys.stdin:
    seed = json.loads(line)
    out = {"metaData": yaml.safe_load(seed["metaData"]), "networkConfig": yaml.safe_load(seed["networkConfig"]), "parts": []}
    message = email.message_from_string(seed["userData"])
    out["multipart"] = message.is_multipart()
    for part in message.walk():
        if part.is_multipart():
            continue
        raw = part.get_payload(decode=True).decode("utf-8")
        entry = {"type": part.get_content_type(), "mergeType": part.get("Merge-Type"), "text": raw}
        if entry["type"] == "text/cloud-config":
            entry["config"], entry["schemaProblem"] = cloud_config(raw)
        out["parts"].append(entry)
    print(json.dumps(out), flush=True)
