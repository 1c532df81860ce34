//! Counts and aggregates over a whole kind read every matching row, so they grow with the
//! data: grouping 30,000 OCOP products by district and stars read 30,000 index entries.
//! Each record table gets a roll-up: one row per combination of its low-cardinality
//! columns (district, stars, category, status…) and whether the record is archived or
//! withdrawn, holding how many records have it and the sum and count of each integer
//! metric. Triggers keep it in step with every write, whoever makes it (mutations,
//! connectors, seeds, an operator's SQL), in the same transaction: on PostgreSQL once
//! per statement, from its transition tables, so a bulk insert adds each combination
//! once (200,000 entries in one statement timed out at 30 s with a trigger per row);
//! on SQLite, which has only row triggers, once per row, in-process. A count or an
//! aggregate that groups and filters only by those columns then sums a few hundred
//! roll-up rows, however many records there are.
//!
//! Float metrics (traceability quantities) are left out: sums kept by adding and
//! subtracting floats drift. Rows whose count falls to zero stay, to be reused; readers
//! skip them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A table's roll-up: the columns it groups by and the integer metrics it sums. Frozen
/// here as migrated; the hub's record specs name the same (a test compares them).
struct Rollup {
    table: &'static str,
    columns: &'static [&'static str],
    sums: &'static [&'static str],
}

const ROLLUPS: &[Rollup] = &[
    Rollup {
        table: "ocop_products",
        columns: &[
            "district_code",
            "stars",
            "category",
            "evaluation_year",
            "source",
        ],
        sums: &["stars"],
    },
    Rollup {
        table: "startups",
        columns: &["district", "sector", "founded_year", "source"],
        sums: &[],
    },
    Rollup {
        table: "application_models",
        columns: &["field", "year_transferred", "source"],
        sums: &[],
    },
    Rollup {
        table: "ip_rights",
        columns: &[
            "right_kind",
            "status",
            "jurisdiction",
            "farm_product",
            "managing_agency_id",
            "source",
        ],
        sums: &[],
    },
    Rollup {
        table: "science_tasks",
        columns: &["level", "status", "source"],
        sums: &["budget_vnd"],
    },
    Rollup {
        table: "technology_assessments",
        columns: &["industry", "level", "year", "source"],
        sums: &[],
    },
    Rollup {
        table: "traceability_entries",
        columns: &[
            "event_type",
            "action",
            "biz_step",
            "disposition",
            "uom",
            "source",
        ],
        sums: &[],
    },
    Rollup {
        table: "annual_reports",
        columns: &["agency_id", "year", "source"],
        sums: &[],
    },
];

impl Rollup {
    fn name(&self) -> String {
        format!("{}_rollup", self.table)
    }

    /// The grouped values of `row` (`NEW.`, `OLD.` or `""` for the table's own rows),
    /// ending with the two activity flags.
    fn values(&self, row: &str) -> Vec<String> {
        let mut values: Vec<String> = self
            .columns
            .iter()
            .map(|column| format!("{row}{column}"))
            .collect();
        values.push(format!("{row}archived_at IS NOT NULL"));
        values.push(format!("{row}withdrawn_at IS NOT NULL"));
        values
    }

    /// One text naming a combination, nulls included (a unique index over nullable
    /// columns would let equal combinations with a null in them repeat).
    fn key(&self, backend: DbBackend, row: &str) -> String {
        let values = self.values(row).join(", ");
        match backend {
            DbBackend::Postgres => format!("CAST(json_build_array({values}) AS TEXT)"),
            _ => format!("json_array({values})"),
        }
    }

    /// Creates the roll-up from the table's rows; the column types follow the table's.
    fn create(&self, backend: DbBackend) -> String {
        let mut select = vec![format!("{} AS key", self.key(backend, ""))];
        select.extend(self.columns.iter().map(|c| (*c).to_owned()));
        select.push("archived_at IS NOT NULL AS archived".into());
        select.push("withdrawn_at IS NOT NULL AS withdrawn".into());
        select.push("COUNT(*) AS n".into());
        for sum in self.sums {
            select.push(format!("SUM(COALESCE({sum}, 0)) AS {sum}_sum"));
            select.push(format!("COUNT({sum}) AS {sum}_count"));
        }
        let mut group: Vec<String> = self.columns.iter().map(|c| (*c).to_owned()).collect();
        group.push("archived_at IS NOT NULL".into());
        group.push("withdrawn_at IS NOT NULL".into());
        format!(
            "CREATE TABLE {} AS SELECT {} FROM {} GROUP BY {}",
            self.name(),
            select.join(", "),
            self.table,
            group.join(", ")
        )
    }

    /// SQLite: adds the record in `NEW` to its combination (bare names in the update are
    /// the existing row's).
    fn add(&self) -> String {
        let mut columns = vec!["key".to_owned()];
        columns.extend(self.columns.iter().map(|c| (*c).to_owned()));
        columns.extend(["archived".into(), "withdrawn".into(), "n".into()]);
        let mut values = vec![self.key(DbBackend::Sqlite, "NEW.")];
        values.extend(self.values("NEW."));
        values.push("1".into());
        let mut updates = vec!["n = n + 1".to_owned()];
        for sum in self.sums {
            columns.push(format!("{sum}_sum"));
            columns.push(format!("{sum}_count"));
            values.push(format!("COALESCE(NEW.{sum}, 0)"));
            values.push(format!("CASE WHEN NEW.{sum} IS NULL THEN 0 ELSE 1 END"));
            for part in ["sum", "count"] {
                updates.push(format!(
                    "{sum}_{part} = {sum}_{part} + excluded.{sum}_{part}"
                ));
            }
        }
        format!(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (key) DO UPDATE SET {}",
            self.name(),
            columns.join(", "),
            values.join(", "),
            updates.join(", ")
        )
    }

    /// SQLite: takes the record in `OLD` out of its combination.
    fn remove(&self) -> String {
        let mut updates = vec!["n = n - 1".to_owned()];
        for sum in self.sums {
            updates.push(format!("{sum}_sum = {sum}_sum - COALESCE(OLD.{sum}, 0)"));
            updates.push(format!(
                "{sum}_count = {sum}_count - CASE WHEN OLD.{sum} IS NULL THEN 0 ELSE 1 END"
            ));
        }
        format!(
            "UPDATE {} SET {} WHERE key = {}",
            self.name(),
            updates.join(", "),
            self.key(DbBackend::Sqlite, "OLD.")
        )
    }

    /// SQLite: whether an update moved the record to another combination or changed a sum.
    fn moved(&self) -> String {
        let mut columns: Vec<&str> = self.columns.to_vec();
        columns.extend(self.sums.iter().copied());
        columns.extend(["archived_at", "withdrawn_at"]);
        columns
            .iter()
            .map(|c| format!("OLD.{c} IS NOT NEW.{c}"))
            .collect::<Vec<_>>()
            .join(" OR ")
    }

    /// PostgreSQL: adds the records of transition table `rows` to their combinations,
    /// one row per combination, in key order (concurrent writers then lock roll-up rows
    /// in the same order).
    fn add_rows(&self, rows: &str) -> String {
        let name = self.name();
        let mut columns = vec!["key".to_owned()];
        columns.extend(self.columns.iter().map(|c| (*c).to_owned()));
        columns.extend(["archived".into(), "withdrawn".into(), "n".into()]);
        let mut values = vec![format!("{} AS key", self.key(DbBackend::Postgres, ""))];
        values.extend(self.values(""));
        values.push("COUNT(*)".into());
        let mut updates = vec![format!("n = {name}.n + excluded.n")];
        for sum in self.sums {
            columns.push(format!("{sum}_sum"));
            columns.push(format!("{sum}_count"));
            values.push(format!("SUM(COALESCE({sum}, 0))"));
            values.push(format!("COUNT({sum})"));
            for part in ["sum", "count"] {
                updates.push(format!(
                    "{sum}_{part} = {name}.{sum}_{part} + excluded.{sum}_{part}"
                ));
            }
        }
        let group: Vec<String> = self.values("");
        format!(
            "INSERT INTO {name} ({}) SELECT {} FROM {rows} AS changed GROUP BY {} ORDER BY key \
             ON CONFLICT (key) DO UPDATE SET {}",
            columns.join(", "),
            values.join(", "),
            group.join(", "),
            updates.join(", ")
        )
    }

    /// PostgreSQL: takes the records of transition table `rows` out of their
    /// combinations.
    fn remove_rows(&self, rows: &str) -> String {
        let name = self.name();
        let mut figures = vec!["COUNT(*) AS n".to_owned()];
        let mut updates = vec![format!("n = {name}.n - gone.n")];
        for sum in self.sums {
            figures.push(format!("SUM(COALESCE({sum}, 0)) AS {sum}_sum"));
            figures.push(format!("COUNT({sum}) AS {sum}_count"));
            for part in ["sum", "count"] {
                updates.push(format!(
                    "{sum}_{part} = {name}.{sum}_{part} - gone.{sum}_{part}"
                ));
            }
        }
        let key = self.key(DbBackend::Postgres, "");
        format!(
            "UPDATE {name} SET {} FROM (SELECT {key} AS key, {} FROM {rows} AS changed GROUP BY 1) AS gone \
             WHERE {name}.key = gone.key",
            updates.join(", "),
            figures.join(", ")
        )
    }

    /// PostgreSQL: the rows of an update that moved to another combination or changed a
    /// sum, before (`old_rows`) or after (`new_rows`), by id.
    fn moved_rows(&self, side: &str) -> String {
        let mut columns: Vec<&str> = self.columns.to_vec();
        columns.extend(self.sums.iter().copied());
        columns.extend(["archived_at IS NULL", "withdrawn_at IS NULL"]);
        let row = |r: &str| {
            columns
                .iter()
                .map(|c| format!("{r}.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "(SELECT {side}.* FROM old_rows AS o JOIN new_rows AS n ON o.id = n.id \
             WHERE ({}) IS DISTINCT FROM ({}))",
            row("o"),
            row("n")
        )
    }

    fn statements(&self, backend: DbBackend) -> Vec<String> {
        let name = self.name();
        let table = self.table;
        let mut statements = vec![
            self.create(backend),
            format!("CREATE UNIQUE INDEX ux_{name}_key ON {name} (key)"),
        ];
        match backend {
            DbBackend::Postgres => {
                let o = self.moved_rows("o");
                let n = self.moved_rows("n");
                for (event, transitions, body) in [
                    ("insert", "NEW TABLE AS new_rows", self.add_rows("new_rows")),
                    (
                        "delete",
                        "OLD TABLE AS old_rows",
                        self.remove_rows("old_rows"),
                    ),
                    (
                        "update",
                        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                        format!("{}; {}", self.remove_rows(&o), self.add_rows(&n)),
                    ),
                ] {
                    statements.push(format!(
                        "CREATE FUNCTION {name}_{event}() RETURNS trigger LANGUAGE plpgsql AS $$ \
                         BEGIN {body}; RETURN NULL; END $$"
                    ));
                    statements.push(format!(
                        "CREATE TRIGGER {name}_{event} AFTER {} ON {table} \
                         REFERENCING {transitions} FOR EACH STATEMENT \
                         EXECUTE FUNCTION {name}_{event}()",
                        event.to_uppercase()
                    ));
                }
            }
            _ => {
                statements.push(format!(
                    "CREATE TRIGGER {name}_insert AFTER INSERT ON {table} BEGIN {}; END",
                    self.add()
                ));
                statements.push(format!(
                    "CREATE TRIGGER {name}_delete AFTER DELETE ON {table} BEGIN {}; END",
                    self.remove()
                ));
                statements.push(format!(
                    "CREATE TRIGGER {name}_update AFTER UPDATE ON {table} WHEN {} \
                     BEGIN {}; {}; END",
                    self.moved(),
                    self.remove(),
                    self.add()
                ));
            }
        }
        statements
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let db = manager.get_connection();
        for rollup in ROLLUPS {
            for statement in rollup.statements(backend) {
                db.execute_unprepared(&statement).await?;
            }
        }
        Ok(())
    }
}
