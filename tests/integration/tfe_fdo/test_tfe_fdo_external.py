"""The TFE FDO stand-in (tests/images/tfe-fdo) in external mode against real services: it logs in to Debian 12's
PostgreSQL 15 (tests/images/debian12-postgres, scram-sha-256, TLS offered) and asks moto's S3 server (over HTTPS, its CA in
TFE_TLS_CA_BUNDLE_FILE, signatures checked for real) for its bucket. With good settings it becomes ready; a wrong
password, database, bucket, access key, secret or endpoint is named on stderr, its secret value never, and the
container never becomes ready."""
from __future__ import annotations

import json
import re
import secrets
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.emulators.moto import start_moto
from tests.emulators.tls import make_ca_and_cert
from tests.integration.conftest import ROOT
from tests.integration.tfe_fdo.test_tfe_fdo_standin import IACT, LICENSE, PASSWORD, docker, image, settings

__all__ = ["image"]  # the stand-in image's fixture, shared with test_tfe_fdo_standin.py

DB_USER = "tfe"
DB_NAME = "tfe"
DB_PASSWORD = "pg-" + secrets.token_hex(12)
BUCKET = "tfe-objects"
REGION = "us-east-1"
WRONG = "wrong-" + secrets.token_hex(12)  # a wrong password or secret: never printed either


def wait_for(what, probe, timeout, why):
    """Call ``probe`` until it is true; fail with ``why()`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, "%s: %s" % (what, why())
        time.sleep(0.3)


@pytest.fixture(scope="module")
def gateway(image):
    """The address the containers on the default bridge reach this machine at."""
    route = docker("run", "--rm", "--entrypoint", "ip", image, "-4", "route", "show", "default")
    match = re.search(r"default via (\S+)", route.stdout)
    assert match, route.stdout + route.stderr
    return match.group(1)


@pytest.fixture(scope="module")
def moto(tmp_path_factory, gateway):
    """moto's S3 server on the gateway address (a free port, HTTPS, a certificate for that address)."""
    with start_moto(tmp_path_factory.mktemp("tfe-ext-moto"), host=gateway) as server:
        yield server


@pytest.fixture(scope="module")
def tls(tmp_path_factory, moto):
    """The stand-in's certificate and PostgreSQL's for db.tfe.test (not for its address); the CA bundle trusts
    these two CAs and moto's."""
    directory = tmp_path_factory.mktemp("tfe-ext-tls")
    ca_path, cert, key = make_ca_and_cert(str(directory))
    pg_ca, pg_cert, pg_key = make_ca_and_cert(str(directory), hosts=("db.tfe.test",), name="pg-")
    bundle = directory / "bundle.pem"
    bundle.write_text("".join(Path(p).read_text() for p in (ca_path, moto.ca, pg_ca)))
    for path in (cert, key, ca_path, bundle, pg_cert, pg_key):
        Path(path).chmod(0o644)  # read by the containers through the bind mount
    return {"dir": str(directory), "ca": ca_path, "cert": "/etc/tfe-tls/" + Path(cert).name,
            "key": "/etc/tfe-tls/" + Path(key).name, "bundle": "/etc/tfe-tls/bundle.pem",
            "pg_cert": "/etc/tfe-tls/" + Path(pg_cert).name, "pg_key": "/etc/tfe-tls/" + Path(pg_key).name}


@pytest.fixture(scope="module")
def s3(moto):
    """The bucket and an IAM user allowed s3:* on moto; then IAM authentication is turned on, so that a wrong
    access key or secret is refused. Yields (URL, key)."""
    setup = {"region": REGION, "access_key": "setup", "secret_key": "setup"}
    iam = moto.client("iam", **setup)
    iam.create_user(UserName="tfe")
    iam.put_user_policy(UserName="tfe", PolicyName="objects", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="tfe")["AccessKey"]
    moto.client("s3", **setup).create_bucket(Bucket=BUCKET)
    # From now on every request must be signed by a known access key with its secret.
    assert requests.post(moto.url + "/moto-api/reset-auth", data=b"0", verify=str(moto.ca), timeout=10).ok
    yield moto.url, key


@pytest.fixture(scope="module")
def postgres(tls):
    """One PostgreSQL 15 container on the default bridge (no published port), offering TLS; yields its address."""
    built = subprocess.run([str(ROOT / "tests" / "images" / "build.sh"), "debian12-postgres"], capture_output=True,
                           text=True, check=False, timeout=900)
    assert built.returncode == 0, built.stderr[-3000:]
    name = "tfe-ext-pg-%s" % uuid.uuid4().hex[:8]
    run = docker("run", "-d", "--name", name, "-e", "PG_USER=" + DB_USER, "-e", "PG_PASSWORD=" + DB_PASSWORD,
                 "-e", "PG_DB=" + DB_NAME, "-v", "%s:/etc/tfe-tls:ro" % tls["dir"],
                 "-e", "PG_SSL_CERT_FILE=" + tls["pg_cert"], "-e", "PG_SSL_KEY_FILE=" + tls["pg_key"], built.stdout.strip().splitlines()[-1], "pg-start")
    try:
        assert run.returncode == 0, run.stderr
        wait_for("PostgreSQL", lambda: "ready to accept connections" in docker("logs", name).stderr, 60,
                 lambda: docker("logs", name).stderr)
        address = docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", name).stdout.strip()
        assert address, docker("inspect", name).stdout
        yield address
        assert DB_PASSWORD not in docker("logs", name).stderr + docker("logs", name).stdout
    finally:
        docker("rm", "-f", name)


@pytest.fixture(scope="module")
def external(postgres, s3, tls):
    """The external-mode settings that work, as a dict."""
    url, key = s3
    return {
        "TFE_HOSTNAME": "tfe.example.com", "TFE_TLS_CERT_FILE": tls["cert"], "TFE_TLS_KEY_FILE": tls["key"],
        "TFE_TLS_CA_BUNDLE_FILE": tls["bundle"], "TFE_OPERATIONAL_MODE": "external",
        "TFE_DATABASE_HOST": "%s:5432" % postgres, "TFE_DATABASE_NAME": DB_NAME, "TFE_DATABASE_USER": DB_USER,
        "TFE_DATABASE_PASSWORD": DB_PASSWORD, "TFE_DATABASE_PARAMETERS": "sslmode=disable",
        "TFE_OBJECT_STORAGE_TYPE": "s3", "TFE_OBJECT_STORAGE_S3_BUCKET": BUCKET,
        "TFE_OBJECT_STORAGE_S3_REGION": REGION, "TFE_OBJECT_STORAGE_S3_ENDPOINT": url,
        "TFE_OBJECT_STORAGE_S3_ACCESS_KEY_ID": key["AccessKeyId"],
        "TFE_OBJECT_STORAGE_S3_SECRET_ACCESS_KEY": key["SecretAccessKey"],
    }


def secret_values(external):
    return [PASSWORD, LICENSE, IACT, DB_PASSWORD, WRONG, external["TFE_OBJECT_STORAGE_S3_SECRET_ACCESS_KEY"]]


@pytest.mark.parametrize("overrides", [
    {},
    {"TFE_DATABASE_PARAMETERS": "sslmode=verify-ca"},
    {"TFE_OBJECT_STORAGE_S3_USE_INSTANCE_PROFILE": "true", "TFE_OBJECT_STORAGE_S3_ACCESS_KEY_ID": None,
     "TFE_OBJECT_STORAGE_S3_SECRET_ACCESS_KEY": None},
], ids=["access-key", "database-tls", "instance-profile"])
def test_good_settings_make_the_stand_in_ready(image, tls, external, overrides):
    name = "tfe-ext-it-%s" % uuid.uuid4().hex[:8]
    run = docker("run", "-d", "--name", name, "-v", "%s:/etc/tfe-tls:ro" % tls["dir"], "-p", "127.0.0.1::443",
                 *settings(tls, **dict(external, **overrides)), image)
    try:
        assert run.returncode == 0, run.stderr
        port = docker("port", name, "443/tcp").stdout.split()[0].rsplit(":", 1)[1]
        url = "https://127.0.0.1:%s/api/v1/health/readiness" % port

        def ready():
            try:
                return requests.get(url, verify=tls["ca"], timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_for("readiness", ready, 30, lambda: docker("logs", name).stderr)
        logs = docker("logs", name)
        assert "(external mode)" in logs.stderr and "startup check failed" not in logs.stderr
        config = docker("exec", name, "tfectl", "app", "config")
        assert config.returncode == 0, config.stderr
        shown = json.loads(config.stdout)
        assert shown["TFE_DATABASE_PASSWORD"] == "(redacted)" and shown["TFE_DATABASE_USER"] == DB_USER
        if "TFE_OBJECT_STORAGE_S3_SECRET_ACCESS_KEY" in shown:
            assert shown["TFE_OBJECT_STORAGE_S3_SECRET_ACCESS_KEY"] == "(redacted)"
        for secret in secret_values(external):
            assert secret not in config.stdout + logs.stdout + logs.stderr
    finally:
        docker("rm", "-f", name)


@pytest.mark.parametrize("overrides, problem", [
    ({"TFE_DATABASE_PASSWORD": WRONG},
     'TFE_DATABASE_PASSWORD: authentication as tfe failed: password authentication failed for user "tfe"'),
    ({"TFE_DATABASE_NAME": "nosuchdb"}, 'TFE_DATABASE_NAME: database "nosuchdb" does not exist'),
    ({"TFE_DATABASE_PARAMETERS": "sslmode=verify-full"}, "TFE_DATABASE_PARAMETERS: TLS to the database at {db} failed "
                                                         "(sslmode=verify-full): IP address mismatch"),
    ({"TFE_OBJECT_STORAGE_S3_BUCKET": "nosuchbucket"}, "TFE_OBJECT_STORAGE_S3_BUCKET: bucket nosuchbucket does not "),
    ({"TFE_OBJECT_STORAGE_S3_SECRET_ACCESS_KEY": WRONG},
     "TFE_OBJECT_STORAGE_S3_SECRET_ACCESS_KEY: is not the secret of access key {key}: The request signature"),
    ({"TFE_OBJECT_STORAGE_S3_ACCESS_KEY_ID": "AKIAUNKNOWNUNKNOWN00"},
     "TFE_OBJECT_STORAGE_S3_ACCESS_KEY_ID: the object store does not know access key AKIAUNKNOWNUNKNOWN00"),
    ({"TFE_OBJECT_STORAGE_S3_ENDPOINT": "https://127.0.0.1:1"},
     "TFE_OBJECT_STORAGE_S3_ENDPOINT: cannot connect to https://127.0.0.1:1"),
], ids=["db-password", "db-name", "db-tls-hostname", "s3-bucket", "s3-secret", "s3-access-key", "s3-endpoint"])
def test_a_bad_external_setting_is_named_and_never_ready(image, tls, external, overrides, problem):
    name = "tfe-ext-it-%s" % uuid.uuid4().hex[:8]
    try:
        run = docker("run", "--name", name, "-v", "%s:/etc/tfe-tls:ro" % tls["dir"],
                     *settings(tls, **dict(external, **overrides)), image, timeout=60)
        assert run.returncode == 1, run.stderr
        assert run.stderr.count("startup check failed: ") == 1, run.stderr
        problem = problem.format(db=external["TFE_DATABASE_HOST"].split(":")[0],
                                 key=external["TFE_OBJECT_STORAGE_S3_ACCESS_KEY_ID"])
        assert "startup check failed: " + problem in run.stderr
        for secret in secret_values(external):
            assert secret not in run.stderr + run.stdout
    finally:
        docker("rm", "-f", name)
