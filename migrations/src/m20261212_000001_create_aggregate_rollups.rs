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

    /// The roll-up's columns, in the order the statements below give their values.
    fn stored_columns(&self) -> Vec<String> {
        let mut columns = vec!["key".to_owned()];
        columns.extend(self.columns.iter().map(|c| (*c).to_owned()));
        columns.extend(["archived".into(), "withdrawn".into(), "n".into()]);
        for sum in self.sums {
            columns.extend([format!("{sum}_sum"), format!("{sum}_count")]);
        }
        columns
    }

    /// The roll-up's values for the rows of a `FROM` grouped by `GROUP BY {group_by}`.
    fn grouped_values(&self, backend: DbBackend) -> String {
        let mut values = vec![format!("{} AS key", self.key(backend, ""))];
        values.extend(self.columns.iter().map(|c| (*c).to_owned()));
        values.push("archived_at IS NOT NULL AS archived".into());
        values.push("withdrawn_at IS NOT NULL AS withdrawn".into());
        values.push("COUNT(*) AS n".into());
        for sum in self.sums {
            values.push(format!("SUM(COALESCE({sum}, 0)) AS {sum}_sum"));
            values.push(format!("COUNT({sum}) AS {sum}_count"));
        }
        values.join(", ")
    }

    fn group_by(&self) -> String {
        self.values("").join(", ")
    }

    /// The figures of an existing combination (`existing`: PostgreSQL wants that row
    /// named, SQLite reads bare names as it) plus or minus (`sign`) those of `change`.
    fn adjusted(&self, existing: &str, sign: char, change: &str) -> String {
        let mut figures = vec!["n".to_owned()];
        for sum in self.sums {
            figures.extend([format!("{sum}_sum"), format!("{sum}_count")]);
        }
        figures
            .iter()
            .map(|f| format!("{f} = {existing}{f} {sign} {change}.{f}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Creates the roll-up from the table's rows; the column types follow the table's.
    fn create(&self, backend: DbBackend) -> String {
        format!(
            "CREATE TABLE {} AS SELECT {} FROM {} GROUP BY {}",
            self.name(),
            self.grouped_values(backend),
            self.table,
            self.group_by()
        )
    }

    /// SQLite: adds the record in `NEW` to its combination.
    fn add(&self) -> String {
        let mut values = vec![self.key(DbBackend::Sqlite, "NEW.")];
        values.extend(self.values("NEW."));
        values.push("1".into());
        for sum in self.sums {
            values.push(format!("COALESCE(NEW.{sum}, 0)"));
            values.push(format!("CASE WHEN NEW.{sum} IS NULL THEN 0 ELSE 1 END"));
        }
        format!(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (key) DO UPDATE SET {}",
            self.name(),
            self.stored_columns().join(", "),
            values.join(", "),
            self.adjusted("", '+', "excluded")
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
        format!(
            "INSERT INTO {name} ({}) SELECT {} FROM {rows} AS changed GROUP BY {} \
             ORDER BY key ON CONFLICT (key) DO UPDATE SET {}",
            self.stored_columns().join(", "),
            self.grouped_values(DbBackend::Postgres),
            self.group_by(),
            self.adjusted(&format!("{name}."), '+', "excluded")
        )
    }

    /// PostgreSQL: takes the records of transition table `rows` out of their
    /// combinations.
    fn remove_rows(&self, rows: &str) -> String {
        let name = self.name();
        format!(
            "UPDATE {name} SET {} FROM (SELECT {} FROM {rows} AS changed GROUP BY {}) AS gone \
             WHERE {name}.key = gone.key",
            self.adjusted(&format!("{name}."), '-', "gone"),
            self.grouped_values(DbBackend::Postgres),
            self.group_by()
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
