"""Starts `ferry serve --port 0` for a client test and stops it afterwards;
runs the AWS CLI against it.

The server prints its endpoint URL on the first line of stdout once it
accepts connections; SIGTERM drains it and it exits 0.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys


class FerryServer:
    def __init__(self, ferry_binary, extra_args=()):
        self.binary = ferry_binary
        self.extra_args = list(extra_args)
        self.process = None
        self.url = None

    def __enter__(self):
        self.process = subprocess.Popen(
            [self.binary, "serve", "--port", "0", *self.extra_args],
            stdout=subprocess.PIPE,
            stderr=sys.stderr,
            text=True,
        )
        line = self.process.stdout.readline().strip()
        if not line.startswith("http://"):
            self.process.kill()
            self.process.wait()
            self.process.stdout.close()
            self.process = None
            raise RuntimeError(f"ferry serve printed {line!r}, not a URL")
        self.url = line
        return self

    def __exit__(self, exc_type, exc, tb):
        self.stop(check=exc_type is None)
        return False

    def stop(self, check=True):
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise RuntimeError("ferry serve did not stop within 30 s of SIGTERM")
        finally:
            self.process.stdout.close()
        self.process = None
        if check and code != 0:
            raise RuntimeError(f"ferry serve exited {code} after SIGTERM")


def dummy_credentials_env():
    """Environment for AWS clients: dummy credentials, no network look-ups."""
    env = dict(os.environ)
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_PAGER": "",
        }
    )
    return env


def awscli_test_args():
    """The --ferry and --aws options of an AWS CLI test. None (after printing
    SKIP) when there is no aws program; else prints the CLI's version."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--ferry", required=True)
    parser.add_argument("--aws", default=shutil.which("aws"))
    args = parser.parse_args()
    if not args.aws or not os.path.exists(args.aws):
        print("SKIP: no aws program")
        return None
    version = subprocess.run([args.aws, "--version"], capture_output=True,
                             text=True, env=dummy_credentials_env())
    print(version.stdout.strip())
    return args


class AwsCli:
    """`aws --endpoint-url URL --output json [SERVICE] ...` with dummy
    credentials. Calling it returns the CompletedProcess (raising
    AssertionError on a non-zero exit unless check=False); out() returns the
    parsed JSON output ({} when there is none)."""

    def __init__(self, aws, url, service=None):
        self.aws = aws
        self.url = url
        self.service = [service] if service else []
        self.env = dummy_credentials_env()

    def __call__(self, *argv, check=True):
        cmd = [self.aws, "--endpoint-url", self.url, "--output", "json",
               *self.service, *argv]
        r = subprocess.run(cmd, capture_output=True, text=True, env=self.env,
                           timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr}")
        return r

    def out(self, *argv):
        return json.loads(self(*argv).stdout or "{}")
