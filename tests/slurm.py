"""A private one-node SLURM cluster for tests, from the Debian ``slurm-wlm`` and ``munge`` packages.

:func:`slurm_cluster` makes a new temporary folder, starts a private ``munged`` on a socket in it
(with its own key), writes ``slurm.conf``, ``gres.conf`` and ``jobcomp.lua`` there, starts
``slurmctld -D`` and ``slurmd -D`` as child processes, and waits until ``sinfo`` reports the node
idle. On exit it cancels the cluster's jobs, stops the three daemons by PID and removes the
folder. Ports are free ones picked at start and the cluster name is unique, so two clusters (two
test sessions) can run side by side; nothing of the machine's own munge or SLURM setup
(``/etc/munge``, ``/etc/slurm``, ``/run``, ``/var``) is read or written.

The node is this host, with the CPUs and memory ``slurmd -C`` reports and ``gpus`` fake GPUs:
GRES ``gpu`` backed by character devices made in the folder (copies of ``/dev/null``; slurmd
insists on a device file). Jobs asking ``--gres=gpu:N`` are scheduled against that count and see
``CUDA_VISIBLE_DEVICES``, nothing more: there is no GPU behind it.

Accounting: there is no slurmdbd. ``jobcomp/filetxt`` with ``sacct -c`` lists finished jobs, but
``sacct -c`` leaves AllocTRES/ReqTRES/ReqMem empty and the file's ``Tres=`` never holds
``gres/gpu`` (``AccountingStorageTRES=gres/gpu`` is fatal without slurmdbd). So the cluster uses
``jobcomp/lua``: a small Lua script writes one JSON line per finished job (its allocated TRES,
requested GRES, GRES used, times, exit code) and :meth:`Cluster.accounting` reads them.

``SLURM_CONF`` must name the private ``slurm.conf`` for *every* SLURM command (without it the
commands look for ``/etc/slurm/slurm.conf`` and then fail with a DNS SRV lookup error).
:meth:`Cluster.run` and :attr:`Cluster.env` carry it. Code that calls SLURM itself through
``subprocess`` with the inherited environment, as dask-jobqueue's ``SLURMCluster`` does for
``sbatch``/``squeue``/``scancel``, needs it in ``os.environ``: pass ``export_env=True`` (the
variable is set for the ``with`` block and restored after) or set it yourself. Jobs inherit the
submitter's environment (``sbatch --export=ALL``, the default), so SLURM commands run inside a
job find the cluster too. Jobs run as root, in the submitter's working directory unless told
otherwise: give ``sbatch`` ``-o``/``--chdir`` (dask-jobqueue: ``log_directory``) so that
``slurm-<id>.out`` files do not land in the repository.

Needs root (the daemons run as ``SlurmUser=root``) and only the standard library. When the
binaries are missing or the process is not root, :func:`unavailable` says why, and the test
fixtures skip with that reason.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PARTITION = "molgen"
DAEMONS = ("munged", "slurmctld", "slurmd")
COMMANDS = ("sbatch", "sinfo", "squeue", "scancel", "scontrol")
SBIN_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin")
START_TIMEOUT = 30.0
DEF_MEM_PER_CPU = 500
"""MB given per CPU to a job that asks for no memory (without it a job takes the whole node)."""
JOB_STATES = (
    "PENDING", "RUNNING", "SUSPENDED", "COMPLETED", "CANCELLED", "FAILED", "TIMEOUT",
    "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY",
)  # fmt: skip
"""SLURM's base job states by number (``job_state & 0xff``)."""

SLURM_CONF = """\
# A private one-node cluster for tests (tests/slurm.py); every path is in {folder}.
ClusterName={name}
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={folder}/munge/munge.sock
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
PlugStackConfig={folder}/plugstack.conf
MailProg=/bin/true
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU={def_mem}
SchedulerParameters=batch_sched_delay=0,sched_interval=1,bf_interval=1
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/lua
JobCompLoc={jobcomp}
MinJobAge=2
KillWait=2
InactiveLimit=0
ReturnToService=2
GresTypes=gpu
NodeName={node} NodeAddr=127.0.0.1 {hardware} {gres}State=UNKNOWN
PartitionName={partition} Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""

JOBCOMP_LUA = """\
-- Called by slurmctld (JobCompType=jobcomp/lua) when a job ends: one JSON line per job.
local OUT = {out}
local FIELDS = {{
  "job_id", "name", "job_state", "partition", "nodes", "batch_host", "total_cpus",
  "total_nodes", "min_mem_per_node", "min_mem_per_cpu", "tres_fmt_alloc_str",
  "tres_fmt_req_str", "tres_per_node", "tres_per_job", "tres_per_task", "tres_per_socket",
  "gres_used", "submit_time", "start_time", "end_time", "exit_code", "derived_ec", "work_dir",
  "std_out", "user_id", "array_job_id", "array_task_id", "comment",
}}
local function quote(s)
  s = string.gsub(tostring(s), '[%c"\\\\]', function(c)
    return string.format("\\\\u%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end
function slurm_jobcomp_log_record(job)
  local parts = {{}}
  for _, k in ipairs(FIELDS) do
    local v = job[k]
    if type(v) == "number" then
      table.insert(parts, quote(k) .. ":" .. string.format("%.0f", v))
    elseif v ~= nil then
      table.insert(parts, quote(k) .. ":" .. quote(v))
    end
  end
  local f = io.open(OUT, "a")
  f:write("{{", table.concat(parts, ","), "}}\\n")
  f:close()
  return slurm.SUCCESS
end
return slurm.SUCCESS
"""


def _which(name: str) -> str | None:
    """``name`` on PATH or in an sbin folder (a user's PATH may lack ``/usr/sbin``)."""
    found = shutil.which(name)
    if found is None:
        for d in SBIN_DIRS:
            if os.access(Path(d) / name, os.X_OK):
                return str(Path(d) / name)
    return found


def unavailable() -> str | None:
    """Why no private cluster can be started here, or None when one can."""
    if not hasattr(os, "geteuid") or not Path("/proc/self").is_dir():
        return "a private SLURM cluster needs Linux"
    missing = [b for b in (*DAEMONS, *COMMANDS) if _which(b) is None]
    if missing:
        return (
            f"SLURM/munge binaries not found: {', '.join(missing)} "
            "(Debian packages `slurm-wlm` and `munge`)"
        )
    if os.geteuid() != 0:
        return "a private SLURM cluster runs its daemons as SlurmUser=root: run as root"
    return None


def _free_ports(n: int) -> list[int]:
    """``n`` distinct free TCP ports (the sockets are held open together so they differ)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def _node_hardware() -> tuple[str, str]:
    """This host's node name and its ``CPUs=.. Boards=.. ... RealMemory=..`` from ``slurmd -C``."""
    slurmd = _which("slurmd")
    assert slurmd is not None
    out = subprocess.run(
        [slurmd, "-C"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    items = dict(item.split("=", 1) for item in out.splitlines()[0].split() if "=" in item)
    keys = ("CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore", "RealMemory")
    return items["NodeName"], " ".join(f"{k}={items[k]}" for k in keys if k in items)


def _fake_gpus(folder: Path, gpus: int) -> str:
    """``gres.conf`` for ``gpus`` fake GPUs: character devices in ``folder`` (like /dev/null).

    slurmd rejects a plain file as a GRES ``File`` and drains the node when a GPU has no
    ``File``; one ``/dev/null`` works for one GPU, several need distinct device files.
    """
    lines = ["AutoDetect=off"]
    if gpus == 0:
        return "\n".join(lines) + "\n"
    folder.mkdir()
    devices = [folder / f"gpu{i}" for i in range(gpus)]
    try:
        for dev in devices:
            os.mknod(dev, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    except OSError:
        if gpus > 1:
            raise
        devices = [Path("/dev/null")]
    lines += [f"Name=gpu File={dev}" for dev in devices]
    return "\n".join(lines) + "\n"


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return f"--- {path.name} ---\n{path.read_text(errors='replace')[-chars:]}\n"
    except OSError:
        return f"--- {path.name}: not written ---\n"


def _parse_tres(text: str) -> dict[str, str]:
    """``cpu=1,mem=100M,node=1`` -> ``{"cpu": "1", "mem": "100M", "node": "1"}``."""
    return dict(item.split("=", 1) for item in text.split(",") if "=" in item)


def _mem_mb(value: str) -> int:
    """A TRES memory value (``100M``, ``2G``, ``1T``) in MB."""
    scale = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}
    unit = value[-1:].upper()
    if unit in scale:
        return round(float(value[:-1]) * scale[unit])
    return round(float(value))


def _gres_count(spec: str, name: str = "gpu") -> int:
    """The count of GRES ``name`` in a spec like ``gres:gpu:2``, ``gpu:tesla:1`` or ``gpu``."""
    total = 0
    for item in spec.split(","):
        parts = item.split(":")
        if parts and parts[0] == "gres":
            parts = parts[1:]
        if not parts or parts[0] != name:
            continue
        count = parts[-1].split("(")[0] if len(parts) > 1 else "1"
        total += int(count) if count.isdigit() else 1
    return total


def _time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


def _record(raw: dict[str, Any]) -> dict[str, Any]:
    """A finished job's record from the Lua script's raw fields, see :meth:`Cluster.accounting`."""
    tres = raw.get("tres_fmt_alloc_str") or raw.get("tres_fmt_req_str") or ""
    parsed = _parse_tres(tres)
    requested = ",".join(
        raw[k] for k in ("tres_per_node", "tres_per_job", "tres_per_task", "tres_per_socket")
        if raw.get(k)
    )  # fmt: skip
    gpus = _gres_count(raw.get("gres_used") or "") or _gres_count(requested)
    if gpus and "gres/gpu" not in parsed:
        tres = f"{tres},gres/gpu={gpus}" if tres else f"gres/gpu={gpus}"
    status = int(raw.get("exit_code", 0))
    start, end = _time(raw.get("start_time")), _time(raw.get("end_time"))
    state = int(raw.get("job_state", 0)) & 0xFF
    return {
        "job_id": str(raw["job_id"]),
        "name": raw.get("name", ""),
        "state": JOB_STATES[state] if state < len(JOB_STATES) else str(state),
        "partition": raw.get("partition", ""),
        "node_list": raw.get("nodes", ""),
        "cpus": int(parsed.get("cpu", raw.get("total_cpus", 0))),
        "mem_mb": _mem_mb(parsed["mem"]) if "mem" in parsed else 0,
        "gpus": gpus,
        "tres": tres,
        "gres": requested,
        "exit_code": f"{status >> 8}:{status & 0x7F}",
        "submit": _time(raw.get("submit_time")),
        "start": start,
        "end": end,
        "elapsed_s": (end - start).total_seconds() if start and end else 0.0,
        "work_dir": raw.get("work_dir", ""),
        "raw": raw,
    }


@dataclass
class Cluster:
    """A running private cluster: its config, partition, and the environment to reach it."""

    folder: Path
    conf: Path
    partition: str
    name: str
    node: str
    env: dict[str, str]
    jobcomp: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict, repr=False)

    def run(self, args: list[str], timeout: float = 60.0) -> str:
        """Run a SLURM command (``["sbatch", "--wrap", ...]``) against this cluster; its stdout.

        Raises:
            RuntimeError: the command failed; the message holds its stdout and stderr.
        """
        out = subprocess.run(
            args, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if out.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args)} failed ({out.returncode}):\n{out.stdout}{out.stderr}"
            )
        return out.stdout

    def submit(self, args: list[str]) -> str:
        """``sbatch --parsable`` with ``args``; the new job's id."""
        return self.run(["sbatch", "--parsable", *args]).strip().split(";")[0]

    def node_state(self) -> str:
        """The node's state as ``sinfo`` prints it: ``idle``, ``mixed``, ``allocated``, ..."""
        return self.run(["sinfo", "-h", "-N", "-n", self.node, "-o", "%T"]).strip()

    def jobs(self) -> list[str]:
        """Ids of the jobs the controller lists as pending, running or completing."""
        return self.run(["squeue", "-h", "-o", "%i", "-t", "PD,R,CG,S"]).split()

    def wait_controller(self, timeout: float = START_TIMEOUT) -> None:
        """Wait until slurmctld answers ``scontrol ping``.

        Raises:
            TimeoutError: no answer in time; the message holds the daemons' logs.
            RuntimeError: a daemon has exited.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            with suppress(RuntimeError, subprocess.TimeoutExpired):
                if " is UP" in self.run(["scontrol", "ping"], timeout=10):
                    return
            time.sleep(0.1)
        raise TimeoutError(f"slurmctld not answering after {timeout:.0f} s:\n{self.logs()}")

    def wait_idle(self, timeout: float = START_TIMEOUT) -> None:
        """Wait until no job is pending or running and the node is ``idle``.

        Raises:
            TimeoutError: not idle in time; the message holds the state and the daemons' logs.
            RuntimeError: a daemon has exited.
        """
        deadline = time.monotonic() + timeout
        state, jobs = "?", ["?"]
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                state, jobs = self.node_state(), self.jobs()
            except (RuntimeError, subprocess.TimeoutExpired) as e:  # controller not up yet
                state = str(e).strip()
            else:
                if state == "idle" and not jobs:
                    return
            time.sleep(0.2)
        raise TimeoutError(
            f"SLURM node {self.node} not idle after {timeout:.0f} s "
            f"(state {state!r}, jobs {jobs}):\n{self.logs()}"
        )

    def wait_job(self, job_id: str, timeout: float = START_TIMEOUT) -> dict[str, Any]:
        """Wait until job ``job_id`` has ended and is in :meth:`accounting`; its record.

        Raises:
            TimeoutError: the job has not ended in time; the message holds the daemons' logs.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for job in self.accounting():
                if job["job_id"] == job_id:
                    return job
            self._check_alive()
            time.sleep(0.2)
        raise TimeoutError(f"job {job_id} not ended after {timeout:.0f} s:\n{self.logs()}")

    def accounting(self) -> list[dict[str, Any]]:
        """The jobs that have ended, in the order they ended (written by ``jobcomp.lua``).

        Each record holds ``job_id``, ``name``, ``state`` (``COMPLETED``, ``CANCELLED``,
        ``FAILED``, ``TIMEOUT``...), ``partition``, ``node_list``, the allocation as ``cpus``,
        ``mem_mb`` and ``gpus`` and as a TRES string like sacct's AllocTRES with ``gres/gpu``
        added (``tres``: ``cpu=1,mem=100M,node=1,billing=1,gres/gpu=1``), the requested GRES
        (``gres``: ``gres:gpu:1``), ``exit_code`` (``"code:signal"``), ``submit``/``start``/``end``
        (UTC datetimes), ``elapsed_s``, ``work_dir``, and ``raw``: the fields as SLURM gave them.
        A job cancelled while pending has its requested resources and ``start == end``.
        """
        try:
            lines = self.jobcomp.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []
        return [_record(json.loads(line)) for line in lines if line.strip()]

    def logs(self) -> str:
        """The tail of each daemon's log, for error messages."""
        return "".join(
            _tail(self.folder / "log" / f"{name}.log") for name in ("slurmctld", "slurmd", "munged")
        )

    def _check_alive(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.logs()}")


def _start(name: str, args: list[str], cluster: Cluster) -> None:
    """Start daemon ``name`` in the foreground as a child; its output goes to log/<name>.log."""
    log = cluster.folder / "log" / f"{name}.log"
    with log.open("ab") as out:
        cluster.processes[name] = subprocess.Popen(
            args,
            env=cluster.env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the terminal reaches pytest, not the daemons
            cwd=cluster.folder,
        )


def _stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds; reaps the process."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def _stray_steps(conf: Path) -> list[int]:
    """PIDs of this cluster's ``slurmstepd`` and job processes still alive.

    They are told apart by their environment: ``SLURM_CONF`` naming ``conf``, and either the
    name ``slurmstepd`` or a ``SLURM_JOB_ID`` (a process the test started with the exported
    ``SLURM_CONF`` but outside any job is left alone).
    """
    marker = f"SLURM_CONF={conf}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with suppress(OSError):
            env = (entry / "environ").read_bytes().split(b"\0")
            if marker not in env:
                continue
            is_step = (entry / "comm").read_text().strip() == "slurmstepd"
            if is_step or any(v.startswith(b"SLURM_JOB_ID=") for v in env):
                pids.append(int(entry.name))
    return pids


def _teardown(cluster: Cluster) -> None:
    """Cancel the jobs, stop slurmd, slurmctld and munged, and kill what the jobs left."""
    ctld = cluster.processes.get("slurmctld")
    if ctld is not None and ctld.poll() is None:
        with suppress(RuntimeError, subprocess.TimeoutExpired):
            if cluster.jobs():
                cluster.run(["scancel", "-p", cluster.partition], timeout=10)
                deadline = time.monotonic() + 10
                while cluster.jobs() and time.monotonic() < deadline:
                    time.sleep(0.2)
    for name in ("slurmd", "slurmctld"):
        if name in cluster.processes:
            _stop(cluster.processes[name])
    ours = {p.pid for p in cluster.processes.values()}
    for pid in _stray_steps(cluster.conf):
        if pid not in ours:
            with suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    if "munged" in cluster.processes:
        _stop(cluster.processes["munged"])


@contextmanager
def slurm_cluster(
    gpus: int = 1, export_env: bool = False, timeout: float = START_TIMEOUT
) -> Iterator[Cluster]:
    """Start a private one-node SLURM cluster; stop it and delete its files on exit.

    Args:
        gpus: fake GPUs on the node (GRES ``gpu``); 0 for none.
        export_env: also set ``os.environ["SLURM_CONF"]`` for the ``with`` block (restored
            after), for code that runs SLURM commands with the inherited environment, such as
            dask-jobqueue.
        timeout: seconds to wait for the node to be idle.

    Raises:
        RuntimeError: a daemon failed to start; the message holds the daemons' logs.
        TimeoutError: the node did not come up idle in time.
    """
    if gpus < 0:
        raise ValueError(f"gpus must be >= 0, not {gpus}")
    reason = unavailable()
    if reason is not None:
        raise RuntimeError(reason)
    node, hardware = _node_hardware()
    # a short path: munge's and slurmd's unix sockets must stay under ~100 characters
    folder = Path(tempfile.mkdtemp(prefix="molgen-slurm-"))
    for sub in ("munge", "state", "spool", "log"):
        (folder / sub).mkdir(mode=0o700)
    ctld_port, slurmd_port = _free_ports(2)
    name = f"molgen{uuid.uuid4().hex[:10]}"
    conf, jobcomp = folder / "slurm.conf", folder / "jobcomp.jsonl"
    conf.write_text(
        SLURM_CONF.format(
            folder=folder,
            name=name,
            node=node,
            ctld_port=ctld_port,
            slurmd_port=slurmd_port,
            def_mem=DEF_MEM_PER_CPU,
            hardware=hardware,
            gres=f"Gres=gpu:{gpus} " if gpus else "",
            partition=PARTITION,
            jobcomp=jobcomp,
        )
    )
    (folder / "gres.conf").write_text(_fake_gpus(folder / "dev", gpus))
    (folder / "plugstack.conf").write_text("")
    (folder / "jobcomp.lua").write_text(JOBCOMP_LUA.format(out=json.dumps(str(jobcomp))))
    key = folder / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    # a parent's cluster (pytest run inside a SLURM job) must not leak into this one
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLURM_", "SBATCH_", "SALLOC_", "SRUN_"))
    }
    env["SLURM_CONF"] = str(conf)
    cluster = Cluster(folder, conf, PARTITION, name, node, env, jobcomp)
    previous = os.environ.get("SLURM_CONF")
    try:
        munge = folder / "munge"
        _start(
            "munged",
            [
                str(_which("munged")), "--foreground", "--force", "--key-file", str(key),
                "--socket", str(munge / "munge.sock"), "--pid-file", str(munge / "munged.pid"),
                "--seed-file", str(munge / "munged.seed"),
            ],
            cluster,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not (munge / "munge.sock").exists():
            cluster._check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"munged did not create its socket:\n{cluster.logs()}")
            time.sleep(0.05)
        _start("slurmctld", [str(_which("slurmctld")), "-D"], cluster)
        # slurmd retries a failed registration only every ~10 s: start it once slurmctld answers
        cluster.wait_controller(timeout)
        _start("slurmd", [str(_which("slurmd")), "-D"], cluster)
        cluster.wait_idle(timeout)
        if export_env:
            os.environ["SLURM_CONF"] = str(conf)
        yield cluster
    finally:
        if export_env:
            if previous is None:
                os.environ.pop("SLURM_CONF", None)
            else:
                os.environ["SLURM_CONF"] = previous
        try:
            _teardown(cluster)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
