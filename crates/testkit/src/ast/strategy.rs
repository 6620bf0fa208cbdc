//! The proptest strategies of the AST: each draws from the RNG in a fixed order, so a
//! fixed seed gives the same statements.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::strategy::Union;

use super::*;

fn tab() -> impl Strategy<Value = Tab> + Clone {
    prop_oneof![Just(Tab::T), Just(Tab::U), Just(Tab::G), Just(Tab::N)]
}

fn name_style() -> impl Strategy<Value = NameStyle> + Clone {
    prop_oneof![
        8 => Just(NameStyle::Plain),
        1 => Just(NameStyle::Upper),
        1 => Just(NameStyle::DoubleQuoted),
        1 => Just(NameStyle::Bracket),
        1 => Just(NameStyle::Backtick),
        1 => Just(NameStyle::Main),
        1 => Just(NameStyle::MainQuoted),
    ]
}

fn alias_style() -> impl Strategy<Value = AliasStyle> + Clone {
    prop_oneof![
        4 => Just(AliasStyle::None),
        2 => Just(AliasStyle::Bare),
        2 => Just(AliasStyle::As),
        1 => Just(AliasStyle::Quoted),
        1 => Just(AliasStyle::Confusing),
    ]
}

fn col_ref() -> impl Strategy<Value = ColRef> + Clone {
    let style = prop_oneof![
        6 => Just(QualStyle::Qualified),
        2 => Just(QualStyle::Bare),
        1 => Just(QualStyle::QuotedColumn),
        1 => Just(QualStyle::Schema),
    ];
    (any::<u8>(), prop::bool::weighted(0.15), style).prop_map(|(pick, outer, style)| ColRef {
        pick,
        outer,
        style,
    })
}

fn param() -> impl Strategy<Value = Param> + Clone {
    prop_oneof![
        3 => Just(Param::Anon),
        2 => (1u8..4).prop_map(Param::Numbered),
        1 => Just(Param::Colon),
        1 => Just(Param::At),
        1 => Just(Param::Dollar),
    ]
}

fn bin_op() -> impl Strategy<Value = BinOp> + Clone {
    use BinOp::*;
    prop::sample::select(vec![
        Eq, Ne, Lt, Ge, And, Or, Add, Mul, Concat, Like, Is, IsNot,
    ])
}

fn func() -> impl Strategy<Value = Func> + Clone {
    use Func::*;
    prop::sample::select(vec![
        Coalesce, Lower, Abs, Length, Ifnull, Typeof, Max2, Substr,
    ])
}

fn agg_fn() -> impl Strategy<Value = AggFn> + Clone {
    use AggFn::*;
    prop::sample::select(vec![Count, Sum, Min, Max, Avg, Total, GroupConcat])
}

fn win_fn() -> impl Strategy<Value = WinFn> + Clone {
    use WinFn::*;
    prop::sample::select(vec![RowNumber, Rank, SumOver, CountOver, Lag])
}

/// Expressions; with `sub`, they may hold subqueries.
fn expr(sub: Option<BoxedStrategy<Select>>) -> BoxedStrategy<Expr> {
    let leaf = prop_oneof![
        6 => col_ref().prop_map(Expr::Col),
        3 => (-3i8..100).prop_map(Expr::Int),
        1 => prop::sample::select(vec!["'x'", "'it''s'", "''", "'a;b'", "'--'", "'?'", "'/*'"])
            .prop_map(Expr::Str),
        1 => Just(Expr::Null),
        2 => param().prop_map(Expr::Param),
        1 => any::<u8>().prop_map(Expr::Rowid),
    ];
    leaf.prop_recursive(3, 12, 3, move |inner| {
        let b = |e: Expr| Box::new(e);
        let mut arms: Vec<(u32, BoxedStrategy<Expr>)> = vec![
            (
                5,
                (inner.clone(), bin_op(), inner.clone())
                    .prop_map(move |(l, o, r)| Expr::Bin(b(l), o, b(r)))
                    .boxed(),
            ),
            (1, inner.clone().prop_map(move |e| Expr::Not(b(e))).boxed()),
            (
                1,
                (inner.clone(), any::<bool>())
                    .prop_map(move |(e, n)| Expr::IsNull(b(e), n))
                    .boxed(),
            ),
            (
                1,
                (inner.clone(), vec(inner.clone(), 1..4), any::<bool>())
                    .prop_map(move |(e, l, n)| Expr::InList(b(e), l, n))
                    .boxed(),
            ),
            (
                2,
                (func(), vec(inner.clone(), 1..3))
                    .prop_map(|(f, args)| Expr::Func(f, args))
                    .boxed(),
            ),
            (
                1,
                (
                    vec((inner.clone(), inner.clone()), 1..3),
                    option::of(inner.clone()),
                )
                    .prop_map(move |(w, e)| Expr::Case(w, e.map(b)))
                    .boxed(),
            ),
            (1, inner.clone().prop_map(move |e| Expr::Cast(b(e))).boxed()),
        ];
        if let Some(sub) = &sub {
            arms.push((
                2,
                (inner.clone(), sub.clone(), any::<bool>())
                    .prop_map(|(e, s, n)| Expr::InSub(Box::new(e), Box::new(s), n))
                    .boxed(),
            ));
            arms.push((
                2,
                (sub.clone(), any::<bool>())
                    .prop_map(|(s, n)| Expr::Exists(Box::new(s), n))
                    .boxed(),
            ));
            arms.push((
                2,
                sub.clone().prop_map(|s| Expr::Scalar(Box::new(s))).boxed(),
            ));
        }
        Union::new_weighted(arms)
    })
    .boxed()
}

fn item(e: BoxedStrategy<Expr>) -> impl Strategy<Value = Item> + Clone {
    prop_oneof![
        6 => (e.clone(), prop::bool::weighted(0.3)).prop_map(|(e, a)| Item::Expr(e, a)),
        2 => Just(Item::Star),
        1 => any::<u8>().prop_map(Item::QualStar),
        2 => (agg_fn(), e.clone(), any::<bool>()).prop_map(|(f, e, a)| Item::Agg(f, e, a)),
        1 => Just(Item::CountStar),
        1 => (win_fn(), e.clone(), e, any::<bool>())
            .prop_map(|(f, p, o, a)| Item::Window(f, p, o, a)),
    ]
}

fn join_op() -> impl Strategy<Value = JoinOp> + Clone {
    prop_oneof![
        2 => Just(JoinOp::Comma),
        2 => Just(JoinOp::Join),
        1 => Just(JoinOp::Inner),
        2 => Just(JoinOp::Left),
        1 => Just(JoinOp::LeftOuter),
        1 => Just(JoinOp::Right),
        1 => Just(JoinOp::Full),
        1 => Just(JoinOp::Cross),
        1 => Just(JoinOp::Natural),
        1 => Just(JoinOp::NaturalLeft),
        1 => Just(JoinOp::NaturalFull),
    ]
}

fn constraint(e: BoxedStrategy<Expr>) -> impl Strategy<Value = Constraint> + Clone {
    prop_oneof![
        4 => (any::<u8>(), any::<u8>()).prop_map(|(l, r)| Constraint::OnEq(l, r)),
        1 => e.prop_map(Constraint::On),
        2 => any::<u8>().prop_map(Constraint::Using),
        1 => Just(Constraint::Nothing),
    ]
}

fn from_item(sub: Option<BoxedStrategy<Select>>) -> BoxedStrategy<FromItem> {
    let table = (tab(), name_style(), alias_style())
        .prop_map(|(t, n, a)| FromItem::Table(t, n, a))
        .boxed();
    let mut arms: Vec<(u32, BoxedStrategy<FromItem>)> = vec![
        (8, table),
        (
            2,
            (any::<u8>(), alias_style())
                .prop_map(|(i, a)| FromItem::Cte(i, a))
                .boxed(),
        ),
        (1, Just(FromItem::JsonEach).boxed()),
    ];
    if let Some(sub) = sub {
        arms.push((
            2,
            (sub, any::<bool>())
                .prop_map(|(s, q)| FromItem::Derived(Box::new(s), q))
                .boxed(),
        ));
    }
    Union::new_weighted(arms).boxed()
}

fn from_clause(
    e: BoxedStrategy<Expr>,
    sub: Option<BoxedStrategy<Select>>,
) -> impl Strategy<Value = FromClause> + Clone {
    let fi = from_item(sub);
    (fi.clone(), vec((join_op(), fi, constraint(e)), 0..3))
        .prop_map(|(first, joins)| FromClause { first, joins })
}

/// A SELECT whose subqueries nest at most `depth` deep.
fn select(depth: u32) -> BoxedStrategy<Select> {
    let sub = (depth > 0).then(|| select(depth - 1));
    let e = expr(sub.clone());
    let group = (
        vec(e.clone(), 1..3),
        option::of((agg_fn(), e.clone(), -1i8..5)),
    )
        .prop_map(|(keys, having)| Group { keys, having });
    (
        prop::bool::weighted(0.1),
        vec(item(e.clone()), 1..4),
        option::weighted(0.9, from_clause(e.clone(), sub)),
        option::weighted(0.6, e),
        option::weighted(0.15, group),
    )
        .prop_map(|(distinct, items, from, filter, group)| Select {
            distinct,
            items,
            from,
            filter,
            group,
        })
        .boxed()
}

fn cte(body: BoxedStrategy<Select>) -> impl Strategy<Value = Cte> + Clone {
    let name = prop_oneof![
        3 => Just(CteName::W),
        1 => Just(CteName::LikeT),
        1 => Just(CteName::LikeU),
    ];
    prop_oneof![
        5 => (name, any::<bool>(), body).prop_map(|(n, l, s)| Cte::Plain(n, l, s)),
        1 => tab().prop_map(Cte::Recursive),
    ]
}

fn with(body: BoxedStrategy<Select>) -> impl Strategy<Value = Vec<Cte>> + Clone {
    prop_oneof![3 => Just(Vec::new()), 1 => vec(cte(body), 1..3)]
}

fn returning(e: BoxedStrategy<Expr>) -> impl Strategy<Value = Option<Returning>> + Clone {
    option::weighted(
        0.3,
        prop_oneof![
            Just(Returning::Star),
            vec(e, 1..3).prop_map(Returning::Exprs),
        ],
    )
}

fn query(depth: u32) -> BoxedStrategy<Query> {
    let sel = select(depth);
    let sub = select(depth.saturating_sub(1));
    let e = expr(Some(sub.clone()));
    let set_op = prop_oneof![
        3 => Just(SetOp::UnionAll),
        1 => Just(SetOp::Union),
        1 => Just(SetOp::Except),
        1 => Just(SetOp::Intersect),
    ];
    let order_key = prop_oneof![
        1 => Just(OrderKey::Ordinal),
        2 => e.prop_map(OrderKey::Expr),
    ];
    let limit =
        (any::<bool>(), 0u8..10, option::of(0u8..5)).prop_map(|(param, count, offset)| Limit {
            param,
            count,
            offset,
        });
    (
        with(sub),
        sel.clone(),
        prop_oneof![3 => Just(Vec::new()), 1 => vec((set_op, sel), 1..3)],
        prop_oneof![2 => Just(Vec::new()), 1 => vec((order_key, any::<bool>()), 1..3)],
        option::weighted(0.3, limit),
    )
        .prop_map(|(with, first, rest, order, limit)| Query {
            with,
            first,
            rest,
            order,
            limit,
        })
        .boxed()
}

fn insert(depth: u32) -> BoxedStrategy<Insert> {
    let sub = select(depth.saturating_sub(1));
    let e = expr(Some(sub.clone()));
    let source = prop_oneof![
        4 => vec(vec(e.clone(), 1..5), 1..4).prop_map(InsertSource::Values),
        2 => select(depth).prop_map(InsertSource::Select),
        1 => Just(InsertSource::Default),
    ];
    let conflict = option::weighted(
        0.4,
        prop_oneof![
            any::<bool>().prop_map(Conflict::Nothing),
            (vec((any::<u8>(), e.clone()), 1..3), option::of(e.clone()))
                .prop_map(|(s, w)| Conflict::Update(s, w)),
        ],
    );
    (
        with(sub),
        prop::bool::weighted(0.1),
        tab(),
        name_style(),
        option::of(vec(any::<u8>(), 1..4)),
        source,
        conflict,
        returning(e),
    )
        .prop_map(
            |(with, or_ignore, tab, name, columns, source, conflict, returning)| Insert {
                with,
                or_ignore,
                tab,
                name,
                columns,
                source,
                conflict,
                returning,
            },
        )
        .boxed()
}

/// The WITH and the target of an UPDATE or a DELETE.
fn write_head(sub: BoxedStrategy<Select>) -> impl Strategy<Value = WriteHead> {
    (with(sub), tab(), name_style(), alias_style()).prop_map(|(with, tab, name, alias)| WriteHead {
        with,
        tab,
        name,
        alias,
    })
}

fn update(depth: u32) -> BoxedStrategy<Update> {
    let sub = select(depth.saturating_sub(1));
    let e = expr(Some(sub.clone()));
    (
        write_head(sub.clone()),
        vec((any::<u8>(), e.clone()), 1..3),
        option::weighted(0.3, from_clause(e.clone(), Some(sub))),
        option::weighted(0.7, e.clone()),
        returning(e),
    )
        .prop_map(|(head, sets, from, filter, returning)| Update {
            head,
            sets,
            from,
            filter,
            returning,
        })
        .boxed()
}

fn delete(depth: u32) -> BoxedStrategy<Delete> {
    let sub = select(depth.saturating_sub(1));
    let e = expr(Some(sub.clone()));
    (
        write_head(sub),
        option::weighted(0.7, e.clone()),
        returning(e),
    )
        .prop_map(|(head, filter, returning)| Delete {
            head,
            filter,
            returning,
        })
        .boxed()
}

/// A statement: a query (most often), an INSERT, an UPDATE or a DELETE, sometimes under
/// EXPLAIN QUERY PLAN.
pub fn statement() -> impl Strategy<Value = Statement> {
    let stmt = prop_oneof![
        4 => query(2).prop_map(Stmt::Query),
        2 => insert(2).prop_map(Stmt::Insert),
        2 => update(2).prop_map(Stmt::Update),
        1 => delete(2).prop_map(Stmt::Delete),
    ];
    (prop::bool::weighted(0.05), stmt).prop_map(|(explain, stmt)| Statement { explain, stmt })
}
