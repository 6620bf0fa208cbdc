//! Scoping a trigger's body to the tenant of the row that fires it.
//!
//! A trigger on a tenant table runs its statements for whichever row fired it. Scoped the
//! way a caller's statement is, with the firing row's tenant (`NEW."tenant_id"`, or
//! `OLD."tenant_id"` for DELETE) in place of a tenant literal, its body reads and writes
//! only that tenant's rows, and on a database holding one tenant it does exactly what it
//! did before. A `WHEN` clause that reads tables is scoped the same way. The migrator
//! rewrites triggers this way; the connection lets a statement
//! fire a trigger only when its body carries [`SCOPED_TRIGGER_MARK`].

use sqlparser::keywords::Keyword;

use crate::analysis::TenantValues;
use crate::error::RewriteError;
use crate::objects::{self, SCOPED_TRIGGER_MARK, TriggerEvent};
use crate::refusal::{Refusal, TriggerForm};
use crate::rewriter::{Options, Rewriter};
use crate::source::{Lex, Source, snippet};
use crate::sql::quote_ident;
use crate::statement::StatementKind;

impl Rewriter {
    /// The `CREATE TRIGGER` statement `sql` with its body scoped to the tenant of the row
    /// that fires it, and marked as scoped. A trigger already marked comes back unchanged.
    ///
    /// ```
    /// use tenantry_rewrite::{Rewriter, Schema};
    /// let schema = Schema::from_sql(
    ///     "CREATE TABLE moves (product_id INTEGER, qty INTEGER, tenant_id TEXT NOT NULL);
    ///      CREATE TABLE stock (product_id INTEGER, on_hand INTEGER, tenant_id TEXT NOT NULL);",
    ///     "tenant_id",
    /// )?;
    /// let scoped = Rewriter::new(schema).scope_trigger(
    ///     "CREATE TRIGGER t AFTER INSERT ON moves BEGIN \
    ///      UPDATE stock SET on_hand = on_hand + NEW.qty WHERE product_id = NEW.product_id; END",
    /// )?;
    /// assert!(scoped.contains(
    ///     "WHERE +stock.\"tenant_id\" = NEW.\"tenant_id\" AND (product_id = NEW.product_id)"
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// A `WHEN` clause that reads tables reads them scoped the same way. A body statement
    /// may give the tenant column the firing row's own (`NEW."tenant_id"` for INSERT and
    /// UPDATE triggers, `OLD."tenant_id"` for UPDATE and DELETE ones, in any quoting and
    /// case): that is the scoping value itself. Any other tenant value is refused: a trigger
    /// body runs inside SQLite, where no run-time check can be called.
    ///
    /// # Errors
    /// [`RewriteError`] when `sql` is not one `CREATE TRIGGER` on a tenant table, or when
    /// its `WHEN` clause or a statement of its body cannot be scoped.
    pub fn scope_trigger(&self, sql: &str) -> Result<String, RewriteError> {
        let refused = |reason: Refusal| RewriteError::Refused {
            index: 1,
            statement: snippet(sql),
            reason,
        };
        let unsupported = |form: TriggerForm| refused(Refusal::Trigger { form });
        let (src, _) = Source::new(sql).map_err(|message| RewriteError::Parse {
            index: 1,
            statement: snippet(sql),
            message,
        })?;
        if let Err(d) = crate::lexcheck::check(&src) {
            return Err(refused(Refusal::Tokenization {
                offset: d.offset,
                detail: d.detail,
            }));
        }
        let [seg] = objects::statements(&src)
            .try_into()
            .map_err(|_| unsupported(TriggerForm::NotOneStatement))?;
        let parts = objects::trigger_of(&src, seg)
            .map_err(|message| RewriteError::Parse {
                index: 1,
                statement: snippet(sql),
                message,
            })?
            .ok_or_else(|| unsupported(TriggerForm::NotATrigger))?;
        let trigger = &parts.trigger;
        if parts.temporary {
            return Err(unsupported(TriggerForm::Temporary {
                trigger: trigger.name.clone(),
            }));
        }
        if trigger.scoped {
            return Ok(sql.to_owned());
        }
        if !self.schema().is_scoped(&trigger.table) {
            return Err(unsupported(TriggerForm::OnGlobalTable {
                trigger: trigger.name.clone(),
                table: trigger.table.clone(),
            }));
        }
        let when = (parts.on..parts.begin).find(|&i| src.is_kw(i, Keyword::WHEN));
        // `NEW` and `OLD` must mean the firing row: a WHEN or body that names something
        // else so (an alias, a CTE) could make `NEW."tenant_id"` another tenant's.
        let shadows_row = (when.unwrap_or(parts.begin) + 1..parts.end).any(|i| {
            src.word(i)
                .is_some_and(|w| w.eq_ignore_ascii_case("new") || w.eq_ignore_ascii_case("old"))
                && src
                    .next_sig(i, parts.end)
                    .is_none_or(|n| src.toks[n].lex != Lex::Period)
        });
        if shadows_row {
            return Err(unsupported(TriggerForm::ShadowsRow {
                trigger: trigger.name.clone(),
            }));
        }
        let row = match trigger.event {
            TriggerEvent::Delete => "OLD",
            TriggerEvent::Insert | TriggerEvent::Update => "NEW",
        };
        let tenant = format!("{row}.{}", quote_ident(self.schema().tenant_column()));
        let options = Options {
            report_keys: false,
            tenant_values: TenantValues::FiringRow(trigger.event),
        };
        // The firing row's tenant is the scoping value itself: a body may give it to the
        // tenant column; any other value would need a check no trigger can run.
        let explicit = |e: RewriteError| match e {
            RewriteError::Refused {
                reason: Refusal::UncheckedTenantValue { .. },
                ..
            } => unsupported(TriggerForm::ExplicitTenant {
                trigger: trigger.name.clone(),
            }),
            other => other,
        };

        // A WHEN clause that reads tables (`SELECT`, or `x IN t`) reads them scoped as the
        // body does: planned as the condition of `SELECT 1 WHERE <when>`, whose edits all
        // fall inside the condition.
        let mut head = sql[..src.toks[parts.begin].start].to_owned();
        if let Some(when) = when {
            let reads_tables = (when..parts.begin).any(|i| {
                src.is_kw(i, Keyword::SELECT)
                    || (src.is_kw(i, Keyword::IN)
                        && src
                            .next_sig(i, parts.begin)
                            .is_some_and(|n| src.toks[n].lex != Lex::LParen))
            });
            let first = src.next_sig(when, parts.begin);
            let last = src.prev_sig(parts.begin, when);
            if let (true, Some(first), Some(last)) = (reads_tables, first, last) {
                let (start, end) = (src.toks[first].start, src.toks[last].end);
                let scoped = self
                    .scope_when(&sql[start..end], options, &tenant)
                    .map_err(explicit)?
                    .ok_or_else(|| {
                        unsupported(TriggerForm::WhenReadsTables {
                            trigger: trigger.name.clone(),
                        })
                    })?;
                head = format!(
                    "{}{scoped}{}",
                    &sql[..start],
                    &sql[end..src.toks[parts.begin].start]
                );
            }
        }

        let body_start = src.toks[parts.begin].end;
        let body_end = src.toks[parts.end].start;
        let body = &sql[body_start..body_end];
        let plan = self.plan_with(body, options).map_err(explicit)?;
        if let Some(info) = plan.statements().iter().find(|s| {
            s.explain
                || !matches!(
                    s.kind,
                    StatementKind::Select
                        | StatementKind::Insert
                        | StatementKind::Update
                        | StatementKind::Delete
                )
        }) {
            return Err(unsupported(TriggerForm::BodyStatement {
                trigger: trigger.name.clone(),
                kind: info.kind.as_str().to_owned(),
            }));
        }
        if plan.has_tenant_checks() {
            return Err(unsupported(TriggerForm::ExplicitTenant {
                trigger: trigger.name.clone(),
            }));
        }
        Ok(format!(
            "{head}{}\n{SCOPED_TRIGGER_MARK}{}{}",
            &sql[src.toks[parts.begin].start..body_start],
            plan.render_expr(&tenant),
            &sql[body_end..]
        ))
    }

    /// A trigger's WHEN condition `when` scoped to the firing row's tenant `tenant` (an SQL
    /// expression); `None` when its plan is not that of one SELECT whose text still starts
    /// as written.
    fn scope_when(
        &self,
        when: &str,
        options: Options,
        tenant: &str,
    ) -> Result<Option<String>, RewriteError> {
        const PREFIX: &str = "SELECT 1 WHERE ";
        let plan = self.plan_with(&format!("{PREFIX}{when}"), options)?;
        let one_select = matches!(
            plan.statements(),
            [info] if !info.explain && info.kind == StatementKind::Select
        );
        if !one_select || plan.has_tenant_checks() {
            return Ok(None);
        }
        let rendered = plan.render_expr(tenant);
        Ok(rendered.strip_prefix(PREFIX).map(str::to_owned))
    }
}
