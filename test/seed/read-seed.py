#!/usr/bin/python3
# Reads NoCloud seeds as the guest's cloud-init does, with cloud-init's own code (Debian's
# cloud-init package): one JSON seed per line on stdin ({metaData, userData, networkConfig}), one
# JSON line out per seed with the files as YAML gives them, user-data split into its MIME parts,
# each #cloud-config part checked against cloud-init's schema (strict: an error is an error), and
# the config the parts merge into, by cloud-init's own cloud-config part handler.
import email
import json
import sys

import yaml
from cloudinit.config.schema import SchemaValidationError, get_schema, validate_cloudconfig_schema
from cloudinit.handlers.cloud_config import CloudConfigPartHandler

schema = get_schema()


class NoFiles:
    # The handler writes its merged config nowhere: the test reads it from the handler.
    def get_ipath(self, _name):
        return None


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
    merger = CloudConfigPartHandler(NoFiles())
    merger.handle_part(None, "__begin__", None, None, None, None)
    for part in message.walk():
        if part.is_multipart():
            continue
        raw = part.get_payload(decode=True).decode("utf-8")
        entry = {"type": part.get_content_type(), "mergeType": part.get("Merge-Type"), "text": raw}
        if entry["type"] == "text/cloud-config":
            entry["config"], entry["schemaProblem"] = cloud_config(raw)
            try:
                merger.handle_part(None, entry["type"], "part", raw, None, dict(part.items()))
            except Exception as e:  # cloud-init logs a part it cannot merge and goes on without it
                entry["mergeProblem"] = str(e)
        out["parts"].append(entry)
    out["merged"] = merger.cloud_buf
    print(json.dumps(out), flush=True)
