# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Downloads from a releases mirror (releases.hashicorp.com or a copy of it), to verify checksums.

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore):
it is for the collection's own modules and may change without notice.

* :class:`ReleasesClient` sends the GETs. It is set up like the PTFE client (``_http``): TLS verified
  (against ``ca_path`` when given), a timeout per request, and the same retry policy (a GET is retried
  after a connection error, HTTP 429, 502 or 503, at most ``max_retries`` times, with the same backoff).
  Unlike the PTFE client it follows redirects (mirrors and CDNs use them; no token is sent), one by one,
  at most ``MAX_REDIRECTS``, and never from https down to plain http unless ``allow_http``.
* :class:`ChecksumVerifier` checks that a SHA256 matches the artifact: from the ``SHA256SUMS`` file
  published beside the zip when there is one, otherwise by streaming the download through ``hashlib`` in
  chunks (never held in memory). Work runs on up to ``VERIFY_WORKERS`` threads, each with its own session.

Nothing here calls ``fail_json``: errors are :class:`ReleasesError` subclasses.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import threading
import time

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

from ansible_collections.ptfe.ops.plugins.module_utils._errors import OpsError
from ansible_collections.ptfe.ops.plugins.module_utils._http import (
    HAS_REQUESTS,
    MAX_REDIRECTS,
    backoff,
    describe,
    may_retry,
    new_session,
    redirect_target,
    requests,
    tls_verify,
)

CHUNK_SIZE = 64 * 1024
MAX_SUMS_SIZE = 1024 * 1024
VERIFY_WORKERS = 4

SHA256_RE = re.compile(r"[0-9a-fA-F]{64}")
ZIP_NAME_RE = re.compile(r"(?P<prefix>[A-Za-z0-9-]+_[^_/]+)_[a-z0-9]+_[a-z0-9]+\.zip")


class ReleasesError(OpsError):
    """Base class of the errors raised here."""


class ReleasesConnectionError(ReleasesError):
    """No usable answer for a URL: the connection failed (after any retries) or a redirect was refused."""


class ChecksumFetchError(ReleasesError):
    """An artifact (or its SHA256SUMS) could not be fetched to verify it."""


class ChecksumMismatchError(ReleasesError):
    """One or more artifacts do not match the SHA256 given for them."""

    def __init__(self, mismatches):
        self.mismatches = mismatches
        lines = []
        for item in mismatches:
            lines.append(
                "version %s: the SHA256 given for %s is %s, but %s says %s"
                % (item["version"], item["url"], item["expected"],
                   "its SHA256SUMS file" if item["method"] == "SHA256SUMS" else "the download",
                   item["actual"]))
        super(ChecksumMismatchError, self).__init__(
            "Failed to verify the checksum of %d Terraform version(s); nothing was written: %s"
            % (len(mismatches), "; ".join(lines)))


def sums_url_for(url):
    """The SHA256SUMS URL published beside a release zip, or None if the name does not follow the layout.

    ``.../terraform_1.5.7_linux_amd64.zip`` -> ``.../terraform_1.5.7_SHA256SUMS``.
    """
    parts = urlsplit(url)
    directory, name = posixpath.split(parts.path)
    match = ZIP_NAME_RE.fullmatch(name)
    if not match:
        return None
    path = posixpath.join(directory, match.group("prefix") + "_SHA256SUMS")
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def parse_sums(text):
    """Map file name -> lower-case SHA256 from a SHA256SUMS document (``<sha>  <name>`` per line)."""
    sums = {}
    for line in text.splitlines():
        fields = line.strip().split()
        if len(fields) == 2 and SHA256_RE.fullmatch(fields[0]):
            sums[fields[1].lstrip("*")] = fields[0].lower()
    return sums


class ReleasesClient(object):
    """Streaming GETs from a releases mirror; see the module docstring for TLS, retries and redirects.

    One ``requests.Session`` per thread (connections are reused per host), so one client serves a pool.
    """

    def __init__(self, ca_path=None, timeout=30, max_retries=0, allow_http=False, warn=None):
        if not HAS_REQUESTS:
            raise ReleasesError("the Python library 'requests' is required to download from a releases mirror")
        self.verify = tls_verify(True, ca_path)
        self.timeout = timeout
        self.max_retries = max(0, int(max_retries or 0))
        self.allow_http = allow_http
        self._warn = warn
        self._local = threading.local()

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = new_session(self.verify)
        return session

    def get(self, url):
        """The answer to ``GET url`` after redirects and retries, streaming (the caller closes it).

        Any status may come back; :class:`ReleasesConnectionError` when there is no answer to give.
        """
        redirects = 0
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._session().get(url, timeout=self.timeout, stream=True, verify=self.verify,
                                               allow_redirects=False)
            except requests.exceptions.RequestException as exc:
                if attempt <= self.max_retries and may_retry("GET", connection_error=True):
                    self._wait(url, attempt, backoff(attempt), describe(exc))
                    continue
                raise ReleasesConnectionError(describe(exc))
            try:
                target = redirect_target(url, response, allow_http=self.allow_http)
            except ValueError as exc:
                response.close()
                raise ReleasesConnectionError(str(exc))
            if target is not None:
                response.close()
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    raise ReleasesConnectionError("more than %d redirects" % MAX_REDIRECTS)
                url, attempt = target, 0
                continue
            if attempt <= self.max_retries and may_retry("GET", status=response.status_code):
                response.close()
                self._wait(url, attempt, backoff(attempt, response.status_code, response.headers),
                           "HTTP %d" % response.status_code)
                continue
            return response

    def _wait(self, url, attempt, seconds, reason):
        if self._warn:
            self._warn("Retrying GET %s in %.1fs after %s (retry %d of %d)"
                       % (urlsplit(url).path, seconds, reason, attempt, self.max_retries))
        time.sleep(seconds)


class ChecksumVerifier(object):
    """Verify (url, sha256) pairs against the published SHA256SUMS or the streamed download.

    ``ca_path`` is a CA bundle for the download host (default: the system trust store); ``timeout``,
    ``max_retries`` and ``allow_http`` are those of :class:`ReleasesClient`.
    """

    def __init__(self, ca_path=None, timeout=30, workers=VERIFY_WORKERS, max_retries=0, allow_http=False,
                 warn=None):
        self.client = ReleasesClient(ca_path=ca_path, timeout=timeout, max_retries=max_retries,
                                     allow_http=allow_http, warn=warn)
        self.workers = max(1, int(workers))
        self._sums_cache = {}
        self._lock = threading.Lock()

    def _sums(self, sums_url):
        with self._lock:
            if sums_url in self._sums_cache:
                return self._sums_cache[sums_url]
        result = None
        try:
            resp = self.client.get(sums_url)
            try:
                if resp.status_code == 200:
                    data = b""
                    for chunk in resp.iter_content(CHUNK_SIZE):
                        data += chunk
                        if len(data) > MAX_SUMS_SIZE:
                            data = b""
                            break
                    result = parse_sums(data.decode("utf-8", "replace")) if data else None
            finally:
                resp.close()
        except (ReleasesError, requests.exceptions.RequestException):
            result = None  # no usable SHA256SUMS: the download itself is hashed instead
        with self._lock:
            self._sums_cache[sums_url] = result
        return result

    def _download_sha256(self, version, url):
        failed = "Failed to download %s to verify the checksum of Terraform version %s" % (url, version)
        digest = hashlib.sha256()
        size = 0
        try:
            resp = self.client.get(url)
        except ReleasesError as exc:
            raise ChecksumFetchError("%s: %s" % (failed, exc))
        try:
            if resp.status_code != 200:
                raise ChecksumFetchError(
                    "%s: HTTP %s from GET %s (set checksum_verify=false only for a mirror the controller cannot "
                    "reach)" % (failed, resp.status_code, urlsplit(resp.url or url).path))
            for chunk in resp.iter_content(CHUNK_SIZE):
                digest.update(chunk)
                size += len(chunk)
        except requests.exceptions.RequestException as exc:
            raise ChecksumFetchError("%s: %s" % (failed, describe(exc)))
        finally:
            resp.close()
        return digest.hexdigest(), size

    def verify_one(self, version, url, sha256):
        """Return a record {version, url, sha256, method, actual, ok[, bytes]}."""
        record = {"version": version, "url": url, "expected": sha256}
        sums_url = sums_url_for(url)
        if sums_url:
            sums = self._sums(sums_url)
            name = posixpath.basename(urlsplit(url).path)
            if sums and name in sums:
                record.update(method="SHA256SUMS", source=sums_url, actual=sums[name])
                record["ok"] = record["actual"] == sha256
                return record
        actual, size = self._download_sha256(version, url)
        record.update(method="download", source=url, actual=actual, bytes=size)
        record["ok"] = actual == sha256
        return record

    def verify_all(self, jobs):
        """Verify every (version, url, sha256); raise ChecksumMismatchError listing all mismatches."""
        jobs = list(dict.fromkeys(jobs))
        if not jobs:
            return []
        if len(jobs) == 1 or self.workers == 1:
            records = [self.verify_one(*job) for job in jobs]
        else:
            with ThreadPoolExecutor(max_workers=min(self.workers, len(jobs))) as pool:
                records = list(pool.map(lambda job: self.verify_one(*job), jobs))
        mismatches = [r for r in records if not r["ok"]]
        if mismatches:
            raise ChecksumMismatchError(mismatches)
        return [dict((k, v) for k, v in r.items() if k not in ("ok", "expected", "actual"))
                for r in records]
