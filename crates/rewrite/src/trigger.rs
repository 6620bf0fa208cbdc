//! Scoping a trigger's body to the tenant of the row that fires it.
//!
//! A trigger on a tenant table runs its statements for whichever row fired it. Scoped the
//! way a caller's statement is, with the firing row's tenant (`NEW."tenant_id"`, or
//! `OLD."tenant_id"` for DELETE) in place of a tenant literal, its body reads and writes
//! only that tenant's rows, and on a database holding one tenant it does exactly what it
//! did before. The migrator rewrites triggers this way; the connection lets a statement
//! fire a trigger only when its body carries [`SCOPED_TRIGGER_MARK`].

use sqlparser::keywords::Keyword;

use crate::error::RewriteError;
use crate::objects::{self, SCOPED_TRIGGER_MARK, TriggerEvent};
use crate::refusal::{Refusal, TriggerForm};
use crate::rewriter::Rewriter;
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
    /// # Errors
    /// [`RewriteError`] when `sql` is not one `CREATE TRIGGER` on a tenant table, when its
    /// `WHEN` clause reads tables, or when a statement of its body cannot be scoped.
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
        // A WHEN clause that reads a table (`SELECT`, or `x IN t`) would read every
        // tenant's rows; it is not scoped.
        let reads_in_when = (parts.on..parts.begin).any(|i| {
            src.is_kw(i, Keyword::SELECT)
                || (src.is_kw(i, Keyword::IN)
                    && src
                        .next_sig(i, parts.begin)
                        .is_some_and(|n| src.toks[n].lex != Lex::LParen))
        });
        if reads_in_when {
            return Err(unsupported(TriggerForm::WhenReadsTables {
                trigger: trigger.name.clone(),
            }));
        }
        // `NEW` and `OLD` must mean the firing row: a body that names something else so
        // (an alias, a CTE) could make `NEW."tenant_id"` another tenant's.
        let shadows_row = (parts.begin + 1..parts.end).any(|i| {
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

        let body_start = src.toks[parts.begin].end;
        let body_end = src.toks[parts.end].start;
        let body = &sql[body_start..body_end];
        let plan = self.plan_with(body, false)?;
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
        let row = match trigger.event {
            TriggerEvent::Delete => "OLD",
            TriggerEvent::Insert | TriggerEvent::Update => "NEW",
        };
        let tenant = format!("{row}.{}", quote_ident(self.schema().tenant_column()));
        Ok(format!(
            "{}\n{SCOPED_TRIGGER_MARK}{}{}",
            &sql[..body_start],
            plan.render_expr(&tenant),
            &sql[body_end..]
        ))
    }
}
