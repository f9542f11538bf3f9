//! Search against a brute-force oracle of the contract's definitions, plus bad input, ranking
//! and snapshot cases.

use proptest::prelude::*;
use tracemark_search::normalize::{canonical, keys};
use tracemark_search::query::{has_wildcard, wildcard_patterns, Tok};
use tracemark_search::{
    Hit, Index, ItemAttrs, MatchClass, Mode, Query, QueryError, SearchResult, Tuning,
};

// ---------------------------------------------------------------------------------------------
// The oracle: the contract's definitions applied literally to every marking.

#[derive(Clone, Debug)]
struct Model {
    items: Vec<(String, ItemAttrs)>,
    markings: Vec<(usize, String, String)>,
}

fn naive_osa(a: &[char], b: &[char]) -> usize {
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i][j] = if i == 0 {
                j
            } else if j == 0 {
                i
            } else {
                let mut v = (d[i - 1][j] + 1)
                    .min(d[i][j - 1] + 1)
                    .min(d[i - 1][j - 1] + usize::from(a[i - 1] != b[j - 1]));
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    v = v.min(d[i - 2][j - 2] + 1);
                }
                v
            };
        }
    }
    d[a.len()][b.len()]
}

fn naive_glob(p: &[Tok], s: &[char]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(Tok::Star) => naive_glob(&p[1..], s) || (!s.is_empty() && naive_glob(p, &s[1..])),
        Some(Tok::One) => !s.is_empty() && naive_glob(&p[1..], &s[1..]),
        Some(Tok::Lit(c)) => s.first() == Some(c) && naive_glob(&p[1..], &s[1..]),
    }
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

fn oracle(model: &Model, q: &Query) -> Result<SearchResult, QueryError> {
    let n = q.text.chars().count();
    if n > 256 {
        return Err(QueryError::TooLong { chars: n });
    }
    if q.max_edits > 2 {
        return Err(QueryError::MaxEdits(q.max_edits));
    }
    if q.text.trim().is_empty() {
        return Err(QueryError::Empty);
    }
    let mut filters = Vec::new();
    for (value, field) in [
        (&q.make, "make"),
        (&q.model, "model"),
        (&q.calibre, "calibre"),
        (&q.country, "country"),
        (&q.status, "status"),
    ] {
        if let Some(v) = value {
            let c = canonical(v);
            if c.is_empty() {
                return Err(QueryError::EmptyFilter { field });
            }
            filters.push((field, c));
        }
    }
    let wildcard = q.mode == Mode::Wildcard || (q.mode == Mode::Auto && has_wildcard(&q.text));
    let (pv, pp) = wildcard_patterns(&q.text);
    let qc = canonical(&q.text);
    if wildcard && pv.is_empty() {
        return Err(QueryError::NoLettersOrDigits);
    }
    if !wildcard && qc.is_empty() {
        return Err(QueryError::NoLettersOrDigits);
    }
    let qk = keys(&q.text);
    let qvars = [chars(&qk.visual), chars(&qk.phonetic)];
    let mut hits: Vec<(MatchClass, u8, String, String, String, usize, Hit)> = Vec::new();
    for (idx, (item, text, kind)) in model.markings.iter().enumerate() {
        let serial_like = ["serial", "import", "lot", "headstamp"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(kind));
        if !q.any_kind && !serial_like {
            continue;
        }
        let (item_key, attrs) = &model.items[*item];
        let attr_ok = filters.iter().all(|(field, c)| {
            let v = match *field {
                "make" => attrs.make.clone(),
                "model" => attrs.model.clone(),
                "calibre" => attrs.calibre.clone(),
                "country" => attrs.country.clone(),
                _ => Some(attrs.status.clone()),
            };
            v.is_some_and(|v| canonical(&v) == *c)
        });
        // Need-to-know: an item with a custodian is seen only if the query lists it.
        let visible = match (&attrs.custodian, &q.custodians) {
            (Some(c), Some(allowed)) => allowed.contains(c),
            _ => true,
        };
        if !attr_ok || !visible {
            continue;
        }
        let mk = keys(text);
        let mvars = [chars(&mk.visual), chars(&mk.phonetic)];
        let exact = canonical(text) == qc;
        let matched: Option<(MatchClass, u8)> = if wildcard {
            let ok = [&pv, &pp]
                .iter()
                .any(|p| mvars.iter().any(|m| naive_glob(p, m)));
            ok.then_some((MatchClass::Wildcard, 0))
        } else {
            let d = qvars
                .iter()
                .flat_map(|a| mvars.iter().map(move |b| naive_osa(a, b)))
                .min()
                .unwrap_or(usize::MAX);
            let k = match q.mode {
                Mode::Exact | Mode::Normalized => 0,
                _ => usize::from(q.max_edits),
            };
            if exact {
                Some((MatchClass::Exact, 0))
            } else if q.mode == Mode::Exact {
                None
            } else if d == 0 {
                Some((MatchClass::Normalized, 0))
            } else if d <= k {
                Some((MatchClass::Fuzzy, d as u8))
            } else {
                None
            }
        };
        if let Some((class, dist)) = matched {
            let hit = Hit {
                item: item_key.clone(),
                marking: text.clone(),
                kind: kind.clone(),
                match_class: class,
                distance: dist,
                make: attrs.make.clone(),
                model: attrs.model.clone(),
                calibre: attrs.calibre.clone(),
                status: attrs.status.clone(),
            };
            hits.push((
                class,
                dist,
                item_key.clone(),
                text.clone(),
                kind.clone(),
                idx,
                hit,
            ));
        }
    }
    hits.sort_by(|a, b| (a.0, a.1, &a.2, &a.3, &a.4, a.5).cmp(&(b.0, b.1, &b.2, &b.3, &b.4, b.5)));
    Ok(SearchResult {
        total: hits.len(),
        hits: hits.into_iter().take(q.limit).map(|h| h.6).collect(),
        capped: None,
    })
}

// ---------------------------------------------------------------------------------------------
// Generators.

const POOL: &[&str] = &[
    "0", "1", "2", "3", "5", "6", "8", "0", "1", "5", "1", "2", "O", "Q", "D", "I", "L", "Z", "S",
    "G", "B", "U", "V", "A", "K", "P", "R", "X", "C", "H", "a", "о", "А", "В", "К", "Н", "О", "Р",
    "С", "Х", "Ж", "Я", "П", "З", "р", "Α", "Β", "Ρ", "Χ", "Ι", "١", "٢", "٥", "۰", "۵", "Ａ",
    "１", " ", "-", "/", "中", "Ё", "ß",
];

/// Pairs that officers confuse: homoglyphs across scripts, misreads, digits of other scripts.
const CONFUSABLE: &[(char, char)] = &[
    ('P', 'Р'),
    ('A', 'А'),
    ('B', 'В'),
    ('0', 'O'),
    ('O', 'О'),
    ('1', 'I'),
    ('I', 'l'),
    ('5', 'S'),
    ('5', '٥'),
    ('1', '١'),
    ('2', 'Z'),
    ('8', 'B'),
    ('C', 'С'),
    ('X', 'Х'),
    ('R', 'Р'),
    ('H', 'Н'),
    ('N', 'Н'),
    ('0', '۰'),
    ('V', 'U'),
    ('K', 'К'),
    ('1', '１'),
    ('P', 'П'),
    ('Ж', 'Z'),
    ('Р', 'Ρ'),
    ('B', 'Β'),
];

fn text_strategy(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        1 => prop::collection::vec(prop::sample::select(POOL), 0..=2).prop_map(|v| v.concat()),
        8 => prop::collection::vec(prop::sample::select(POOL), 1..=max).prop_map(|v| v.concat()),
    ]
}

fn attrs_strategy() -> impl Strategy<Value = ItemAttrs> {
    (
        prop::option::of(prop::sample::select(vec![
            "Norinco", "NORINCO", "Izhmash", "FN",
        ])),
        prop::option::of(prop::sample::select(vec!["Type 56", "AKM", "type-56"])),
        prop::option::of(prop::sample::select(vec!["7.62x39mm", "5.56x45mm"])),
        prop::option::of(prop::sample::select(vec!["CN", "RU", "cn"])),
        prop::sample::select(vec!["in_service", "reported_stolen", "destroyed"]),
        prop::option::of(prop::sample::select(vec!["defence", "guard"])),
    )
        .prop_map(
            |(make, model, calibre, country, status, custodian)| ItemAttrs {
                make: make.map(String::from),
                model: model.map(String::from),
                calibre: calibre.map(String::from),
                country: country.map(String::from),
                status: status.to_string(),
                custodian: custodian.map(String::from),
            },
        )
}

#[derive(Clone, Debug)]
enum Op {
    Upsert(usize, ItemAttrs),
    Mark(usize, String, String),
    Search(QuerySpec),
}

#[derive(Clone, Debug)]
struct QuerySpec {
    /// Derive the text from this marking (index modulo the markings), or use `text`.
    from_marking: Option<usize>,
    edits: Vec<(u8, usize, &'static str)>,
    text: String,
    mode: Mode,
    max_edits: u8,
    filter: Option<(u8, &'static str)>,
    any_kind: bool,
    limit: usize,
    /// Need-to-know: the custodians the searcher may see (`None`: every item).
    custodians: Option<Vec<&'static str>>,
}

fn query_strategy() -> impl Strategy<Value = QuerySpec> {
    (
        prop_oneof![1 => Just(None), 3 => any::<usize>().prop_map(Some)],
        prop::collection::vec(
            (
                0u8..8,
                any::<usize>(),
                prop::sample::select(vec!["?", "*", "0", "O", "Р", "P", "5", "-", "A"]),
            ),
            0..4,
        ),
        text_strategy(6),
        prop::sample::select(vec![
            Mode::Auto,
            Mode::Auto,
            Mode::Auto,
            Mode::Exact,
            Mode::Normalized,
            Mode::Wildcard,
            Mode::Fuzzy,
        ]),
        prop::sample::select(vec![0u8, 1, 1, 1, 2, 2, 2, 2, 1, 1, 3]),
        prop::option::weighted(
            0.3,
            (
                0u8..5,
                prop::sample::select(vec![
                    "norinco",
                    "FN",
                    "type 56",
                    "AKM",
                    "7.62x39mm",
                    "CN",
                    "ru",
                    "destroyed",
                    "reported stolen",
                    "nothing",
                    "norinco",
                    "in service",
                ]),
            ),
        ),
        any::<bool>(),
        prop::sample::select(vec![0usize, 1, 2, 3, 5, 50]),
        prop::option::weighted(
            0.5,
            prop::sample::select(vec![
                vec![],
                vec!["defence"],
                vec!["guard"],
                vec!["defence", "guard"],
                vec!["police"],
            ]),
        ),
    )
        .prop_map(
            |(from_marking, edits, text, mode, max_edits, filter, any_kind, limit, custodians)| {
                QuerySpec {
                    from_marking,
                    edits,
                    text,
                    mode,
                    max_edits,
                    filter,
                    any_kind,
                    limit,
                    custodians,
                }
            },
        )
}

fn build_query(spec: &QuerySpec, model: &Model) -> Query {
    let mut text: Vec<char> = match spec.from_marking {
        Some(i) if !model.markings.is_empty() => {
            model.markings[i % model.markings.len()].1.chars().collect()
        }
        _ => spec.text.chars().collect(),
    };
    for &(op, at, s) in &spec.edits {
        let c = s.chars().next().unwrap_or('?');
        let len = text.len();
        match op {
            0 if len > 0 => text[at % len] = c,
            1 => text.insert(at % (len + 1), c),
            2 if len > 0 => {
                text.remove(at % len);
            }
            3 if len > 1 => {
                let i = at % (len - 1);
                text.swap(i, i + 1);
            }
            4 | 5 if len > 0 => {
                let i = at % len;
                if let Some(&(a, b)) = CONFUSABLE
                    .iter()
                    .find(|(a, b)| *a == text[i] || *b == text[i])
                {
                    text[i] = if a == text[i] { b } else { a };
                }
            }
            6 if len > 0 => text[at % len] = '?',
            _ => {}
        }
    }
    let mut q = Query::new(text.into_iter().collect::<String>());
    q.mode = spec.mode;
    q.max_edits = spec.max_edits;
    q.any_kind = spec.any_kind;
    q.limit = spec.limit;
    q.custodians = spec
        .custodians
        .as_ref()
        .map(|c| c.iter().map(|s| s.to_string()).collect());
    if let Some((field, value)) = spec.filter {
        let v = Some(value.to_string());
        match field {
            0 => q.make = v,
            1 => q.model = v,
            2 => q.calibre = v,
            3 => q.country = v,
            _ => q.status = v,
        }
    }
    q
}

fn ops_strategy() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            2 => (0usize..10, attrs_strategy()).prop_map(|(i, a)| Op::Upsert(i, a)),
            5 => (
                0usize..10,
                text_strategy(7),
                prop::sample::select(vec![
                    "serial", "serial", "serial", "import", "lot", "headstamp", "factory_code",
                    "proof", "Serial",
                ])
            )
                .prop_map(|(i, t, k)| Op::Mark(i, t, k.to_string())),
            3 => query_strategy().prop_map(Op::Search),
        ],
        1..60,
    )
}

fn tuning_strategy() -> impl Strategy<Value = Tuning> {
    (1usize..5, 0usize..4, 0usize..4, 0usize..12, 0usize..4).prop_map(
        |(run_buffer, scan_small, small_group, item_order_budget, max_leading_ones)| Tuning {
            run_buffer,
            scan_small,
            small_group,
            item_order_budget,
            max_leading_ones,
        },
    )
}

/// Item keys in an order unrelated to creation order, so that ranking by key is tested.
fn item_key(i: usize) -> String {
    [
        "KE-9", "KE-10", "ke-2", "A", "B-1", "KE-1", "Z", "ПА", "1", "KE-3",
    ][i % 10]
        .to_string()
}

fn check(index: &Index, model: &Model, q: &Query) -> Result<(), TestCaseError> {
    let got = index.search(q);
    let want = oracle(model, q);

    prop_assert_eq!(got, want, "query {:?}", q);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn index_agrees_with_the_oracle(ops in ops_strategy(), tuning in tuning_strategy(),
                                    finals in prop::collection::vec(query_strategy(), 1..6)) {
        let mut index = Index::with_tuning(tuning);
        let mut model = Model { items: Vec::new(), markings: Vec::new() };
        for op in &ops {
            match op {
                Op::Upsert(i, attrs) => {
                    let key = item_key(*i);
                    index.upsert_item(&key, attrs.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    match model.items.iter().position(|(k, _)| *k == key) {
                        Some(p) => model.items[p].1 = attrs.clone(),
                        None => model.items.push((key, attrs.clone())),
                    }
                }
                Op::Mark(i, text, kind) => {
                    let key = item_key(*i);
                    let res = index.add_marking(&key, text, kind);
                    match model.items.iter().position(|(k, _)| *k == key) {
                        Some(p) => {
                            prop_assert!(res.is_ok());
                            model.markings.push((p, text.clone(), kind.clone()));
                        }
                        None => prop_assert!(res.is_err()),
                    }
                }
                Op::Search(spec) => check(&index, &model, &build_query(spec, &model))?,
            }
        }
        prop_assert_eq!(index.len(), model.markings.len());
        let queries: Vec<Query> = finals.iter().map(|s| build_query(s, &model)).collect();
        for q in &queries {
            check(&index, &model, q)?;
        }
        // The same answers after a snapshot round trip, and after compaction.
        let mut bytes = Vec::new();
        index.write_snapshot(&mut bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let restored = Index::read_snapshot(&bytes[..]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for q in &queries {
            check(&restored, &model, q)?;
        }
        index.compact();
        for q in &queries {
            check(&index, &model, q)?;
        }
    }
}

/// Builds the index and the model from the item and marking operations (searches ignored).
fn build(ops: &[Op], tuning: Tuning) -> (Index, Model) {
    let mut index = Index::with_tuning(tuning);
    let mut model = Model {
        items: Vec::new(),
        markings: Vec::new(),
    };
    for op in ops {
        match op {
            Op::Upsert(i, attrs) => {
                let key = item_key(*i);
                assert!(index.upsert_item(&key, attrs.clone()).is_ok());
                match model.items.iter().position(|(k, _)| *k == key) {
                    Some(p) => model.items[p].1 = attrs.clone(),
                    None => model.items.push((key, attrs.clone())),
                }
            }
            Op::Mark(i, text, kind) => {
                let key = item_key(*i);
                if let Some(p) = model.items.iter().position(|(k, _)| *k == key) {
                    assert!(index.add_marking(&key, text, kind).is_ok());
                    model.markings.push((p, text.clone(), kind.clone()));
                }
            }
            Op::Search(_) => {}
        }
    }
    (index, model)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Patterns of every shape: anchored at the start, at the end, open at both ends, lengths
    /// only, known characters scattered among unknown ones.
    #[test]
    fn wildcard_patterns_agree_with_the_oracle(
        ops in ops_strategy(),
        tuning in tuning_strategy(),
        patterns in prop::collection::vec(
            prop::collection::vec(
                prop::sample::select(vec!["?", "?", "*", "*", "1", "5", "P", "Р", "A", "0", "O", "2", "-"]),
                1..7,
            ),
            1..12,
        ),
        any_kind in any::<bool>(),
        limit in 0usize..4,
        status in prop::option::of(prop::sample::select(vec!["in service", "Destroyed", "seized"])),
    ) {
        let (index, model) = build(&ops, tuning);
        for p in patterns.iter().map(|p| p.concat()).chain(["*".to_string(), "**".to_string()]) {
            let mut q = Query::new(p);
            q.mode = Mode::Wildcard;
            q.any_kind = any_kind;
            q.limit = limit;
            check(&index, &model, &q)?;
            q.status = status.map(String::from);
            check(&index, &model, &q)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Examples.

fn attrs(make: &str, status: &str) -> ItemAttrs {
    ItemAttrs {
        make: Some(make.to_string()),
        model: None,
        calibre: None,
        country: None,
        status: status.to_string(),
        custodian: None,
    }
}

fn sample() -> Index {
    let mut index = Index::new();
    let data = [
        ("KE-2019-000123", "Norinco", "5612345", "serial"),
        ("KE-2019-000124", "Norinco", "٥٦١٢٣٤٥", "serial"),
        ("KE-2019-000125", "Izhmash", "РА 1234", "serial"),
        ("KE-2019-000126", "Izhmash", "ПА 1234", "serial"),
        ("KE-2019-000127", "FN", "56-12-354", "serial"),
        ("KE-2019-000128", "FN", "66", "factory_code"),
        ("KE-2019-000129", "Norinco", "56I2345", "import"),
    ];
    for (key, make, text, kind) in data {
        assert!(index.upsert_item(key, attrs(make, "in_service")).is_ok());
        assert!(index.add_marking(key, text, kind).is_ok());
    }
    index
}

fn summary(r: &SearchResult) -> Vec<(String, MatchClass, u8)> {
    r.hits
        .iter()
        .map(|h| (h.item.clone(), h.match_class, h.distance))
        .collect()
}

#[test]
fn ranking_is_class_then_distance_then_item() {
    let index = sample();
    let r = index
        .search(&Query::new("5612345"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        summary(&r),
        vec![
            ("KE-2019-000123".into(), MatchClass::Exact, 0),
            ("KE-2019-000124".into(), MatchClass::Exact, 0),
            ("KE-2019-000129".into(), MatchClass::Normalized, 0),
            ("KE-2019-000127".into(), MatchClass::Fuzzy, 1),
        ]
    );
    assert_eq!(r.total, 4);
    let mut q = Query::new("5612345");
    q.limit = 2;
    let r = index.search(&q).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.total, 4);
    assert_eq!(r.hits.len(), 2);
}

#[test]
fn cyrillic_serials_typed_visually_or_phonetically() {
    let index = sample();
    let items = |text: &str| -> Vec<String> {
        let mut q = Query::new(text);
        q.max_edits = 0;
        let r = index.search(&q).unwrap_or_else(|e| panic!("{e}"));
        r.hits.into_iter().map(|h| h.item).collect()
    };
    assert_eq!(items("PA1234"), vec!["KE-2019-000125", "KE-2019-000126"]);
    assert_eq!(items("RA-1234"), vec!["KE-2019-000125"]);
}

#[test]
fn partial_serials_with_unknown_positions() {
    let index = sample();
    let r = index
        .search(&Query::new("5?1??4?"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.total, 3);
    assert!(r.hits.iter().all(|h| h.match_class == MatchClass::Wildcard));
    let r = index
        .search(&Query::new("*345"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.total, 3);
    let r = index
        .search(&Query::new("*23*"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.total, 6);
}

#[test]
fn star_alone_matches_every_serial_like_marking() {
    let index = sample();
    let r = index
        .search(&Query::new("*"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.total, 6);
    let mut q = Query::new("*");
    q.any_kind = true;
    q.limit = 1;
    let r = index.search(&q).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.total, 7);
    assert_eq!(r.hits.len(), 1);
    assert_eq!(r.hits[0].item, "KE-2019-000123");
}

#[test]
fn filters_compare_on_canonical_forms() {
    let index = sample();
    let mut q = Query::new("*");
    q.make = Some("NORINCO ".into());
    let r = index.search(&q).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.total, 3);
    q.make = Some("Colt".into());
    let r = index.search(&q).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.total, 0);
}

#[test]
fn status_changes_are_seen() {
    let mut index = sample();
    let mut q = Query::new("5612345");
    q.status = Some("reported stolen".into());
    assert_eq!(index.search(&q).map(|r| r.total), Ok(0));
    assert!(index
        .upsert_item("KE-2019-000123", attrs("Norinco", "reported_stolen"))
        .is_ok());
    let r = index.search(&q).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.total, 1);
    assert_eq!(r.hits[0].status, "reported_stolen");
}

#[test]
fn explicit_modes() {
    let index = sample();
    let run = |text: &str, mode: Mode| {
        let mut q = Query::new(text);
        q.mode = mode;
        summary(&index.search(&q).unwrap_or_else(|e| panic!("{e}")))
    };
    assert_eq!(run("5612345", Mode::Exact).len(), 2);
    assert_eq!(run("5612345", Mode::Normalized).len(), 3);
    assert_eq!(run("5612345", Mode::Fuzzy), run("5612345", Mode::Auto));
    let wildcard = run("5612345", Mode::Wildcard);
    assert_eq!(wildcard.len(), 3);
    assert!(wildcard.iter().all(|h| h.1 == MatchClass::Wildcard));
}

#[test]
fn bad_input_is_refused_with_a_reason() {
    let index = sample();
    let err = |q: Query| index.search(&q).err();
    assert_eq!(err(Query::new("")), Some(QueryError::Empty));
    assert_eq!(err(Query::new("   ")), Some(QueryError::Empty));
    assert_eq!(
        err(Query::new(" - / . ")),
        Some(QueryError::NoLettersOrDigits)
    );
    let mut q = Query::new("-");
    q.mode = Mode::Wildcard;
    assert_eq!(err(q), Some(QueryError::NoLettersOrDigits));
    assert_eq!(
        err(Query::new("1".repeat(257))),
        Some(QueryError::TooLong { chars: 257 })
    );
    assert!(index.search(&Query::new("1".repeat(256))).is_ok());
    let mut q = Query::new("5612345");
    q.max_edits = 3;
    assert_eq!(err(q), Some(QueryError::MaxEdits(3)));
    let mut q = Query::new("5612345");
    q.make = Some("--".into());
    assert_eq!(err(q), Some(QueryError::EmptyFilter { field: "make" }));
    // NFKC can lengthen a short query past the key limit.
    let r = index.search(&Query::new("\u{FDFA}".repeat(40)));
    assert!(matches!(r, Err(QueryError::KeyTooLong { .. })));
    // Every error says what is wrong.
    for e in [
        QueryError::Empty,
        QueryError::NoLettersOrDigits,
        QueryError::MaxEdits(9),
    ] {
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn markings_need_their_item() {
    let mut index = Index::new();
    assert!(index.add_marking("nope", "123", "serial").is_err());
    assert!(index.is_empty());
}

#[test]
fn damaged_snapshots_are_refused() {
    let index = sample();
    let mut bytes = Vec::new();
    assert!(index.write_snapshot(&mut bytes).is_ok());
    assert!(Index::read_snapshot(&bytes[..]).is_ok());
    assert!(Index::read_snapshot(&bytes[..bytes.len() - 1]).is_err());
    assert!(Index::read_snapshot(&b"not a snapshot"[..]).is_err());
    for at in [12, bytes.len() / 2, bytes.len() - 9] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x55;
        assert!(Index::read_snapshot(&bad[..]).is_err(), "flip at {at}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(Index::read_snapshot(&longer[..]).is_err());
}

#[test]
fn index_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Index>();
}

#[test]
fn markings_of_one_item_are_ordered_by_text() {
    let mut index = Index::new();
    assert!(index.upsert_item("B", attrs("FN", "in_service")).is_ok());
    assert!(index.upsert_item("A", attrs("FN", "in_service")).is_ok());
    for (item, text) in [("B", "X2"), ("A", "X9"), ("B", "X1"), ("A", "X3")] {
        assert!(index.add_marking(item, text, "serial").is_ok());
    }
    let r = index
        .search(&Query::new("X*"))
        .unwrap_or_else(|e| panic!("{e}"));
    let order: Vec<(String, String)> = r.hits.into_iter().map(|h| (h.item, h.marking)).collect();
    assert_eq!(
        order,
        vec![
            ("A".into(), "X3".into()),
            ("A".into(), "X9".into()),
            ("B".into(), "X1".into()),
            ("B".into(), "X2".into()),
        ]
    );
}
