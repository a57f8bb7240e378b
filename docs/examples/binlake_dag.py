"""binlake on Airflow (2.4 or later): hourly ingest, and per day a checkdone
sensor followed by one merge task per table.

Copy this file into your DAGs folder and set the constants below. Every binlake
command is idempotent and safe to retry; exit codes: 0 done, 1 failed,
2 usage or configuration error, 75 not ready yet. See docs/operations.md.

Replays and backfills use the daily DAG's params (Trigger DAG w/ config):

    {"date": "2024-03-01"}                       merge one day again (or for the first time)
    {"date": "2024-03-01", "tables": ["orders"]}  only some tables
    {"date": "2024-03-01", "replay": true}        rebuild the day's binlog files from
                                                  Kafka first (ingest --replay-date)

A range of days: `airflow dags backfill -s 2024-03-01 -e 2024-03-07 binlake_daily`
(max_active_runs=1 keeps the days in order: each merge needs the day before).
"""

import subprocess

import pendulum
from airflow import DAG
from airflow.exceptions import AirflowException, AirflowSkipException
from airflow.models.param import Param
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator
from airflow.sensors.python import PythonSensor

BINLAKE = "/usr/local/bin/binlake"
CONFIG = "/etc/binlake/binlake.yaml"
# The tables of the configuration's tables: list, one merge task each.
TABLES = ["orders", "order_items", "customers", "coupons"]
# The warehouse's timezone: setting, so that Airflow's days are binlake's days.
TIMEZONE = "Asia/Shanghai"
START = pendulum.datetime(2024, 3, 1, tz=TIMEZONE)

# Exit codes of binlake (docs/cli.md).
EXIT_OK, EXIT_NOT_READY = 0, 75

# The day a daily run works on: params.date when given, else the run's
# logical date (the day that just ended).
DAY = "{{ params.date or ds }}"

with DAG(
    dag_id="binlake_ingest",
    description="Kafka to hourly binlog partitions (binlake ingest)",
    schedule="5 * * * *",
    start_date=START,
    catchup=False,  # each run reads everything up to Kafka's end anyway
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": pendulum.duration(minutes=5)},
    tags=["binlake"],
) as ingest_dag:
    BashOperator(
        task_id="ingest",
        # --max-duration keeps a catching-up run inside the hour; the next run
        # continues from the last commit.
        bash_command=f"{BINLAKE} ingest --config {CONFIG} --max-duration 50m "
        "--summary /tmp/binlake-ingest-{{ ts_nodash }}.json",
        execution_timeout=pendulum.duration(minutes=55),
    )


def wait_for_day(day: str) -> bool:
    """checkdone as a sensor: True when ready (exit 0), False to poke again
    (exit 75), and an error for anything else, so that a misconfigured gate
    fails instead of waiting until the timeout."""
    proc = subprocess.run(
        [BINLAKE, "checkdone", "--config", CONFIG, "--date", day],
        capture_output=True,
        text=True,
        check=False,
    )
    print(proc.stderr)
    if proc.returncode == EXIT_OK:
        return True
    if proc.returncode == EXIT_NOT_READY:
        return False
    raise AirflowException(f"binlake checkdone exited {proc.returncode}: {proc.stderr.strip()}")


def only_if_replay(**context) -> None:
    if not context["params"].get("replay"):
        raise AirflowSkipException("no replay asked for")


def only_selected(table: str, **context) -> None:
    tables = context["params"].get("tables") or TABLES
    if table not in tables:
        raise AirflowSkipException(f"{table} is not in params.tables")


with DAG(
    dag_id="binlake_daily",
    description="checkdone, then merge each table into snapshot dt=D",
    schedule="@daily",
    start_date=START,
    catchup=True,
    max_active_runs=1,  # days merge in order
    default_args={"retries": 3, "retry_delay": pendulum.duration(minutes=10)},
    params={
        "date": Param("", type="string", description="YYYY-MM-DD; empty: the run's day"),
        "tables": Param([], type="array", description="tables to merge; empty: all"),
        "replay": Param(False, type="boolean", description="run ingest --replay-date first"),
    },
    tags=["binlake"],
) as daily_dag:
    replay_gate = PythonOperator(task_id="replay_requested", python_callable=only_if_replay)
    replay = BashOperator(
        task_id="replay_ingest",
        bash_command=f"{BINLAKE} ingest --config {CONFIG} --replay-date {DAY}",
    )
    ready = PythonSensor(
        task_id="checkdone",
        python_callable=wait_for_day,
        op_args=[DAY],
        mode="reschedule",
        poke_interval=300,
        timeout=6 * 3600,
        # Runs after the replay when there is one, and without it otherwise.
        trigger_rule="none_failed",
    )
    replay_gate >> replay >> ready

    for table in TABLES:
        selected = PythonOperator(
            task_id=f"select_{table}",
            python_callable=only_selected,
            op_args=[table],
        )
        merge = BashOperator(
            task_id=f"merge_{table}",
            bash_command=f"{BINLAKE} merge --config {CONFIG} --date {DAY} --table {table} "
            f"--summary /tmp/binlake-merge-{table}-{{{{ ds_nodash }}}}.json",
        )
        ready >> selected >> merge
