//! Search (Ctrl+F): `g123` finds a goroutine, `p3` a processor, `m5` a thread, any other
//! text the goroutines whose start function contains it, user tasks, regions and log
//! messages (category or text) that contain it, and the spans whose stacks hold a matching
//! function. Results jump to the lane and span; matches are highlighted; ↑/↓ and Enter walk
//! the result list.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use super::analyses::{INLINE_EVENTS, Job, Pieces, Slot};
use super::loader::{OpenTrace, TraceId};
use super::marks::{Highlight, NO_SPANS, SpanSet};
use goscope_model::{GSpan, GState, Model, Tag};

/// Bytes of the file each piece of a search under an overview holds at most
/// (`search_in_pieces`): its model takes about four times that while it is searched.
pub const SEARCH_PIECE_FILE_BYTES: u64 = 16 << 20;

/// At most this many results are listed.
pub(crate) const MAX_HITS: usize = 200;

/// One search result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hit {
    /// A goroutine (by id), shown from `t_ns`.
    Goroutine { g: i64, t_ns: i64 },
    /// A span of a goroutine whose stack matched: its index in the model searched (none
    /// when found in the trace's pieces, `search_in_pieces`), its state and duration as
    /// text (`what`), and why it matched (`func`).
    Span {
        g: i64,
        span: Option<usize>,
        t_ns: i64,
        what: String,
        func: String,
    },
    /// A processor lane (index into `model.procs`).
    Proc(usize),
    /// A thread lane (index into `model.threads`).
    Thread(usize),
    /// A user task (index into `model.tasks`).
    Task(usize),
    /// A user region of goroutine `g` (index into its `regions`), from `t_ns`.
    Region { g: i64, region: usize, t_ns: i64 },
    /// A user log message (index into `model.logs`).
    Log(usize),
}

/// Why a span matched: a function in its stack, or the tag of what it waited on.
#[derive(Clone, Copy, Debug)]
enum Why {
    Func(u32),
    Tag(Tag),
}

/// What a query matched, for the result list and the timeline's highlight.
#[derive(Clone, Debug, Default)]
pub struct Matches {
    pub hits: Vec<Hit>,
    /// More hits than listed.
    pub truncated: bool,
    /// Goroutines to highlight, sorted by id.
    pub goroutines: Vec<i64>,
    /// Matching spans.
    pub spans: SpanSet,
}

/// `x123` → 123 when `s` is that letter (either case) followed by digits.
fn prefixed_id(s: &str, letter: char) -> Option<i64> {
    let mut c = s.chars();
    let first = c.next()?;
    if first.to_ascii_lowercase() != letter {
        return None;
    }
    let rest = c.as_str();
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

/// Whether query `q` (trimmed) is one whose matches include spans: not empty, and not an
/// id (`g123`, `p3`, `m5`), which finds its lane alone.
fn spans_searched(q: &str) -> bool {
    !q.is_empty() && !['g', 'p', 'm'].iter().any(|&c| prefixed_id(q, c).is_some())
}

/// Runs a query over the model.
pub fn search(model: &Model, query: &str) -> Matches {
    search_in(model, query, true)
}

/// `search`; without `spans`, leaving spans out (no span hits, and only the goroutines
/// whose start function matches).
fn search_in(model: &Model, query: &str, spans: bool) -> Matches {
    let q = query.trim();
    let mut m = Matches::default();
    if q.is_empty() {
        return m;
    }
    if let Some(id) = prefixed_id(q, 'g') {
        if let Some(g) = model.goroutine(id) {
            m.hits.push(Hit::Goroutine {
                g: id,
                t_ns: g.first_ns(),
            });
            m.goroutines.push(id);
        }
        return m;
    }
    if let Some(id) = prefixed_id(q, 'p') {
        if let Some(i) = model.procs.iter().position(|p| p.id == id) {
            m.hits.push(Hit::Proc(i));
        }
        return m;
    }
    if let Some(id) = prefixed_id(q, 'm') {
        if let Some(i) = model.threads.iter().position(|t| t.id == id) {
            m.hits.push(Hit::Thread(i));
        }
        return m;
    }

    let matcher = Matcher::new(model, q);
    let is_match = |id: u32| matcher.is_match(id);

    // User annotations whose name (or a log's category or text) matches.
    m.hits.extend(
        (0..model.tasks.len())
            .filter(|&i| is_match(model.tasks[i].name))
            .map(Hit::Task),
    );
    for g in &model.goroutines {
        m.hits.extend(
            g.regions
                .iter()
                .enumerate()
                .filter(|(_, r)| is_match(r.name))
                .map(|(region, r)| Hit::Region {
                    g: g.id,
                    region,
                    t_ns: r.start_ns,
                }),
        );
    }
    m.hits.extend(
        (0..model.logs.len())
            .filter(|&i| is_match(model.logs[i].category) || is_match(model.logs[i].message))
            .map(Hit::Log),
    );

    // Goroutines first, then spans, longest first within the listed ones; ties keep the
    // order the hits were found in (goroutines by id, spans by index).
    let mut best = BestSpans::new(MAX_HITS.saturating_sub(m.hits.len()));
    if spans {
        each_matching_span(model, &matcher, |gi, si, s, why| {
            m.spans.insert(gi, si);
            let g = model.goroutines[gi].id;
            best.note(s.duration_ns(), g, || SpanHit {
                span: Some(si),
                ..SpanHit::of(model, g, s, why)
            });
        });
    }
    for (gi, g) in model.goroutines.iter().enumerate() {
        let by_start = is_match(g.start_fn);
        let any_span = m.spans.any_in(gi, 0..g.spans.len());
        if by_start {
            m.hits.push(Hit::Goroutine {
                g: g.id,
                t_ns: g.first_ns(),
            });
        }
        if by_start || any_span {
            m.goroutines.push(g.id);
        }
    }
    best.list_in(&mut m);
    m
}

/// Calls `each(goroutine index, span index, span, why)` for every span of `model` that
/// `matcher` matches, goroutine by goroutine, each in time order.
fn each_matching_span(
    model: &Model,
    matcher: &Matcher,
    mut each: impl FnMut(usize, usize, &GSpan, Why),
) {
    for (gi, g) in model.goroutines.iter().enumerate() {
        for (si, s) in g.spans.iter().enumerate() {
            if let Some(why) = matcher.why(model, &s) {
                each(gi, si, &s, why);
            }
        }
    }
}

/// The spans of `model` that `query` matches, as `Matches::spans` numbers them: the
/// highlight of a model other than the one a search listed (a window of a trace searched
/// whole under its overview).
pub fn matching_spans(model: &Model, query: &str) -> SpanSet {
    let q = query.trim();
    let mut spans = SpanSet::default();
    if !spans_searched(q) {
        return spans;
    }
    let matcher = Matcher::new(model, q);
    each_matching_span(model, &matcher, |gi, si, _, _| spans.insert(gi, si));
    spans
}

/// How far a search in pieces has come (`search_in_pieces`).
pub struct SearchProgress<'a> {
    /// Pieces searched, and of how many (none before the first is done).
    pub done_of: Option<(usize, usize)>,
    so_far: &'a dyn Fn() -> Matches,
}

impl SearchProgress<'_> {
    /// What was found so far, listed as a search lists it: the overview's hits at once,
    /// then the spans of the pieces done too (made when asked for: a copy of the list).
    pub fn so_far(&self) -> Matches {
        (self.so_far)()
    }
}

/// `search` of the whole trace's model, over a trace opened as an overview (whose lanes
/// keep only the long spans and sum the others): names, tasks, regions and logs are the
/// overview's (it keeps them whole); spans are the trace's own, from windows of all of it
/// built one piece after another from its bytes (`source`, `resumes`), each of about
/// `piece_file_bytes` of the file (`goscope_model::for_each_window_piece`). A span is
/// taken from the piece it ends in: one still open at a piece's end is in the next one
/// too, with its start, unless it ended with that piece's last event. Span hits have no
/// index (`Hit::Span::span`) and no spans are highlighted (`Matches::spans`): the model
/// shown numbers its own (`matching_spans`). `progress` hears what was found before the
/// first piece and after each.
#[allow(clippy::too_many_arguments)]
pub fn search_in_pieces<S: goscope_trace::Source + ?Sized>(
    source: &S,
    resumes: &goscope_model::Resumes,
    overview: &Model,
    query: &str,
    piece_file_bytes: u64,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(SearchProgress),
) -> goscope_trace::Result<Matches> {
    let q = query.trim();
    if !spans_searched(q) {
        return Ok(search(overview, q));
    }
    let m = search_in(overview, q, false);
    let mut best = BestSpans::new(MAX_HITS.saturating_sub(m.hits.len()));
    // A window's string and stack ids are the whole trace's: one matcher serves them all.
    let matcher = Matcher::new(overview, q);
    let mut goroutines: std::collections::BTreeSet<i64> = m.goroutines.iter().copied().collect();
    // The overview's hits and the spans kept so far, as a search lists them.
    let so_far = |best: &BestSpans, goroutines: &std::collections::BTreeSet<i64>| {
        let mut found = m.clone();
        best.list_in(&mut found);
        found.goroutines = goroutines.iter().copied().collect();
        found
    };
    progress(SearchProgress {
        done_of: None,
        so_far: &|| so_far(&best, &goroutines),
    });
    // Spans open at the end of the piece before: goroutine, start, and the hit each is
    // if it ended there (with that piece's last event) and matched.
    let mut open_before: Vec<(i64, i64, Option<SpanHit>)> = Vec::new();
    goscope_model::for_each_window_piece(
        source,
        resumes,
        overview.start_ns,
        overview.end_ns.saturating_add(1),
        piece_file_bytes,
        cancel,
        &mut |piece| {
            let model = piece.model;
            let last = piece.index + 1 == piece.pieces;
            for (g, start_ns, hit) in open_before.drain(..) {
                let goes_on = model
                    .goroutine(g)
                    .and_then(|gr| gr.spans.first())
                    .is_some_and(|s| s.start_ns == start_ns);
                if let (false, Some(hit)) = (goes_on, hit) {
                    goroutines.insert(g);
                    best.note(-hit.key.0, g, || hit);
                }
            }
            for g in &model.goroutines {
                for s in g.spans.iter() {
                    let Some(why) = matcher.why(model, &s) else {
                        if !last && s.end_ns >= model.end_ns {
                            open_before.push((g.id, s.start_ns, None));
                        }
                        continue;
                    };
                    let hit = || SpanHit::of(model, g.id, &s, why);
                    if !last && s.end_ns >= model.end_ns {
                        open_before.push((g.id, s.start_ns, Some(hit())));
                    } else {
                        goroutines.insert(g.id);
                        best.note(s.duration_ns(), g.id, hit);
                    }
                }
            }
            progress(SearchProgress {
                done_of: Some((piece.index + 1, piece.pieces)),
                so_far: &|| so_far(&best, &goroutines),
            });
        },
    )?;
    Ok(so_far(&best, &goroutines))
}

/// A span hit, ordered as a search lists them: longest first, then by goroutine, then in
/// the order found (within a goroutine, time order).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SpanHit {
    /// (−duration, goroutine, order found).
    key: (i64, i64, u64),
    /// Its index in the model searched (none for a search in pieces).
    span: Option<usize>,
    t_ns: i64,
    what: String,
    func: String,
}

impl SpanHit {
    /// Span `s` of goroutine `g` in `model`, which matched for `why` (its key is
    /// `BestSpans::note`'s to set).
    fn of(model: &Model, g: i64, s: &GSpan, why: Why) -> SpanHit {
        SpanHit {
            key: (-s.duration_ns(), g, 0),
            span: None,
            t_ns: s.start_ns,
            what: span_text(model, s),
            func: why.text(&model.interner),
        }
    }
}

/// The first `room` span hits by `SpanHit`'s order, and how many there were.
struct BestSpans {
    room: usize,
    /// The kept ones, the last in order on top.
    kept: std::collections::BinaryHeap<SpanHit>,
    found: usize,
}

impl BestSpans {
    fn new(room: usize) -> BestSpans {
        BestSpans {
            room,
            kept: Default::default(),
            found: 0,
        }
    }

    /// Counts a hit of goroutine `g` lasting `duration_ns`; keeps it (made by `hit`, only
    /// then) if it is among the first `room` so far.
    fn note(&mut self, duration_ns: i64, g: i64, hit: impl FnOnce() -> SpanHit) {
        let key = (-duration_ns, g, self.found as u64);
        self.found += 1;
        let full = self.kept.len() >= self.room;
        if full && self.kept.peek().is_none_or(|worst| key >= worst.key) {
            return;
        }
        if full {
            self.kept.pop();
        }
        self.kept.push(SpanHit { key, ..hit() });
    }

    /// Lists the kept hits after `m`'s, in order; `m` is truncated if it and all the hits
    /// noted are more than `MAX_HITS`.
    fn list_in(&self, m: &mut Matches) {
        let total = m.hits.len() + self.found;
        m.hits.extend(
            self.kept
                .clone()
                .into_sorted_vec()
                .into_iter()
                .map(|h| Hit::Span {
                    g: h.key.1,
                    span: h.span,
                    t_ns: h.t_ns,
                    what: h.what,
                    func: h.func,
                }),
        );
        if total > MAX_HITS {
            m.hits.truncate(MAX_HITS);
            m.truncated = true;
        }
    }
}

/// What a query matches: the strings that hold it (case aside), each stack's first
/// matching function (innermost first), and the tags of waits whose name holds it.
struct Matcher {
    matching_str: Vec<bool>,
    stack_func: Vec<Option<u32>>,
    tags: Vec<Tag>,
}

impl Matcher {
    fn new(model: &Model, query: &str) -> Matcher {
        let needle = query.trim().to_lowercase();
        let it = &model.interner;
        let matching_str: Vec<bool> = (0..it.string_count())
            .map(|i| it.string(i as u32).to_lowercase().contains(&needle))
            .collect();
        let is_match = |id: u32| matching_str.get(id as usize).copied().unwrap_or(false);
        let stack_func = (0..it.stack_count())
            .map(|s| it.stack(s as u32).map(|f| f.func).find(|&f| is_match(f)))
            .collect();
        // Tags of waits (`goscope_model::tags`) whose name matches: "mutex", "http client".
        let tags = Tag::ALL
            .into_iter()
            .filter(|t| t.name().to_lowercase().contains(&needle))
            .collect();
        Matcher {
            matching_str,
            stack_func,
            tags,
        }
    }

    fn is_match(&self, id: u32) -> bool {
        self.matching_str.get(id as usize).copied().unwrap_or(false)
    }

    /// Why span `s` of `model` matches, if it does: a function of its end stack, else of
    /// its start stack, else the tag of what it waited on.
    fn why(&self, model: &Model, s: &GSpan) -> Option<Why> {
        let func_of = |st: u32| self.stack_func.get(st as usize).copied().flatten();
        func_of(s.end_stack)
            .or_else(|| func_of(s.start_stack))
            .map(Why::Func)
            .or_else(|| {
                // Most queries name no tag: then no span's tag is looked up.
                if self.tags.is_empty() {
                    return None;
                }
                let t = model.span_tag(s).filter(|t| self.tags.contains(t))?;
                Some(Why::Tag(t))
            })
    }
}

impl Why {
    fn text(self, interner: &goscope_model::Interner) -> String {
        match self {
            Why::Func(f) => interner.string(f).to_string(),
            Why::Tag(t) => format!("waits on {}", t.name()),
        }
    }
}

/// A span's state (with what it waited on) and duration, as a hit lists it.
fn span_text(model: &Model, s: &GSpan) -> String {
    let state = match s.state {
        GState::Waiting if s.reason != 0 => format!("waiting ({})", model.string(s.reason)),
        st => st.name().to_string(),
    };
    format!(
        "{state} {}",
        super::view::format_duration(s.duration_ns() as f64)
    )
}

/// A one-line description of a hit.
pub(crate) fn describe(model: &Model, hit: &Hit) -> String {
    let rel = |t: i64| super::view::format_duration((t - model.start_ns) as f64);
    match hit {
        Hit::Goroutine { g, .. } => model.goroutine_label(*g),
        Hit::Span {
            g,
            t_ns,
            what,
            func,
            ..
        } => format!("G{g} {what} at {} — {func}", rel(*t_ns)),
        Hit::Proc(i) => format!("Processor P{}", model.procs.get(*i).map_or(-1, |p| p.id)),
        Hit::Thread(i) => format!("Thread M{}", model.threads.get(*i).map_or(-1, |t| t.id)),
        Hit::Task(i) => match model.tasks.get(*i) {
            Some(t) => format!(
                "Task {} #{} at {}",
                model.string(t.name),
                t.id,
                t.start_ns.map_or("trace start".to_owned(), rel)
            ),
            None => String::new(),
        },
        Hit::Region { g, region, t_ns } => {
            let name = model
                .goroutine(*g)
                .and_then(|gr| gr.regions.get(*region))
                .map_or("", |r| model.string(r.name));
            format!("Region {name} on G{g} at {}", rel(*t_ns))
        }
        Hit::Log(i) => match model.logs.get(*i) {
            Some(l) => format!(
                "Log [{}] {} — G{} at {}",
                model.string(l.category),
                model.string(l.message),
                l.g,
                rel(l.time_ns)
            ),
            None => String::new(),
        },
    }
}

/// What matches are for: a query, and the model (its address) they were found in.
type Key = (String, usize);

/// The search bar's state.
pub struct SearchBar {
    pub open: bool,
    pub query: String,
    /// Focus the field on the next frame.
    pub want_focus: bool,
    matches: Matches,
    /// The query `matches` is for, and the model they were found in (its address: an
    /// overview's window is another model, whose spans are numbered otherwise).
    matched: Option<Key>,
    /// A search running in the background, its query and model: one at a time; when it
    /// ends and the query has changed meanwhile, the next starts for the query as it is
    /// then.
    running: Option<(Key, Job<Result<Matches, String>>)>,
    /// For a search of the whole trace under an overview (`search_in_pieces`): how far it
    /// has come; it stops when the query changes.
    pieces: Pieces,
    /// And what it has found so far, listed (and highlighted) while it goes on; each
    /// search has its own.
    so_far: Arc<Mutex<Option<Matches>>>,
    /// Why the last search did not search all of the trace (it could not read a piece of
    /// it, or it panicked): said beside the results it did find.
    failure: Option<String>,
    /// The spans that the query of `matched` matches in the model shown, when that is not
    /// the model they were found in (a search under an overview searches the trace; the
    /// model shown is the overview or a window, which number their own spans): found on it
    /// (in the background for a large one), keyed by that query and the id of what is
    /// shown (not its model's address, which a later window may have again).
    shown_spans: Option<((String, TraceId), Slot<SpanSet>)>,
    /// Events a trace may have and be searched within the frame (`INLINE_EVENTS`; a
    /// search reads every span's stacks); a larger one is searched in the background, so
    /// that typing a query does not stall on every key.
    pub inline_events: f64,
    /// Set when a view asked to find something: the first match of the query is shown
    /// once the matches are the query's (found in the frame, or in the background).
    show_first: bool,
    /// The result ↑/↓ moved to (Enter shows it), for the matches of `matched`.
    cursor: usize,
}

impl Default for SearchBar {
    fn default() -> Self {
        SearchBar {
            open: false,
            query: String::new(),
            want_focus: false,
            matches: Matches::default(),
            matched: None,
            running: None,
            pieces: Pieces::default(),
            so_far: Arc::default(),
            failure: None,
            shown_spans: None,
            inline_events: INLINE_EVENTS,
            show_first: false,
            cursor: 0,
        }
    }
}

impl SearchBar {
    /// The bar as the user left it (open or not, and the query), for another model of the
    /// same trace: the matches are found again on it.
    pub(crate) fn carried_over(self) -> SearchBar {
        SearchBar {
            open: self.open,
            query: self.query,
            want_focus: self.want_focus,
            inline_events: self.inline_events,
            show_first: self.show_first,
            ..SearchBar::default()
        }
    }

    /// Whether the matches shown are not yet those of the query (a search is running).
    pub fn searching(&self) -> bool {
        self.running.is_some()
    }

    /// Brings the matches up to the query: at once for a small trace, else through one
    /// background search at a time (the matches shown are the last query's meanwhile).
    /// A trace opened as an overview (`trace` has resumes) is searched whole, piece by
    /// piece (`search_in_pieces`), whatever the timeline shows (`model`); a change of
    /// query stops that search and starts the next.
    fn update(&mut self, ctx: &egui::Context, model: &Arc<Model>, trace: &OpenTrace) {
        let searched = if trace.resumes.is_some() {
            &trace.model
        } else {
            model
        };
        let key = (self.query.clone(), Arc::as_ptr(searched) as usize);
        if let Some((query, job)) = &self.running {
            if *query != key {
                self.pieces.stop();
            }
            let Some(found) = job.take() else {
                // Under an overview, what the search has found so far is listed.
                let so_far = self.so_far.lock().ok().and_then(|mut s| s.take());
                if let Some(so_far) = so_far.filter(|_| *query == key) {
                    if self.matched.as_ref() != Some(query) {
                        self.cursor = 0;
                    }
                    self.matches = so_far;
                    self.cursor = self.cursor.min(self.matches.hits.len().saturating_sub(1));
                    self.matched = Some(query.clone());
                }
                return;
            };
            // One stopped (the query changed) is not its query's matches, even if the
            // query has changed back since: it is searched again. One that failed keeps
            // what it found before it did (under an overview, the pieces before), and
            // says why.
            let stopped = self
                .pieces
                .cancel()
                .load(std::sync::atomic::Ordering::Relaxed);
            // The matches listed are this search's (found so far) if it said any.
            let listed_so_far = self.matched.as_ref() == Some(query);
            self.matched = (!stopped).then(|| query.clone());
            match found.and_then(|r| r) {
                Ok(m) => self.matches = m,
                Err(_) if stopped => self.matches = Matches::default(),
                Err(e) => {
                    if !listed_so_far {
                        self.matches = Matches::default();
                    }
                    self.failure = Some(e);
                }
            }
            self.running = None;
            self.cursor = 0;
        }
        if self.matched.as_ref() == Some(&key) {
            return;
        }
        // Each search has its own stop switch and progress.
        self.pieces = Pieces::default();
        self.failure = None;
        let job = match trace.resumes.clone() {
            Some(resumes) => {
                self.so_far = Arc::default();
                let (file, overview) = (trace.file.clone(), trace.model.clone());
                let (pieces, so_far, repaint) =
                    (self.pieces.clone(), self.so_far.clone(), ctx.clone());
                let query = key.0.clone();
                Job::spawn("search", ctx, move || {
                    search_in_pieces(
                        &*file,
                        &resumes,
                        &overview,
                        &query,
                        SEARCH_PIECE_FILE_BYTES,
                        pieces.cancel(),
                        &mut |p| {
                            if let Ok(mut s) = so_far.lock() {
                                *s = Some(p.so_far());
                            }
                            match p.done_of {
                                Some((done, of)) => pieces.report(&repaint, done, of),
                                None => repaint.request_repaint(),
                            }
                        },
                    )
                    .map_err(|e| e.to_string())
                })
            }
            None if (model.events as f64) <= self.inline_events => {
                self.matches = search(model, &self.query);
                self.matched = Some(key);
                self.cursor = 0;
                return;
            }
            None => {
                let model = Arc::clone(model);
                let query = key.0.clone();
                Job::spawn("search", ctx, move || Ok(search(&model, &query)))
            }
        };
        self.running = Some((key, job));
    }

    /// Opens the bar on `query`; its first match is shown (returned by `ui`) once found.
    pub(crate) fn find(&mut self, query: String) {
        self.open();
        self.query = query;
        self.show_first = true;
    }

    /// Opens the bar with the field focused.
    pub fn open(&mut self) {
        self.open = true;
        self.want_focus = true;
    }

    /// The current matches, for highlighting (none when closed).
    pub fn matches(&self) -> Option<&Matches> {
        (self.open && !self.query.trim().is_empty()).then_some(&self.matches)
    }

    /// What to highlight in `shown`, what the timeline shows (none while the bar is
    /// closed, or when the matches are another model's): the goroutines that match and the
    /// spans, as its model numbers them. A trace opened as an overview (`trace` has
    /// resumes) is searched whole, and its matches number no spans: those of the model
    /// shown, the overview or a window, are found on it (in the background for a large
    /// one; none are marked until then).
    pub fn highlight_in(
        &mut self,
        ctx: &egui::Context,
        shown: &OpenTrace,
        trace: &OpenTrace,
    ) -> Option<Highlight<'_>> {
        self.matches()?;
        let (query, found_in) = self.matched.as_ref()?;
        let model = &shown.model;
        if trace.resumes.is_none() || *found_in != Arc::as_ptr(&trace.model) as usize {
            let m = &self.matches;
            return (*found_in == Arc::as_ptr(model) as usize).then_some(Highlight {
                goroutines: &m.goroutines,
                spans: &m.spans,
            });
        }
        // Found again only when the query or what is shown changes, not every frame.
        let found_for = |((q, id), _): &((String, TraceId), _)| q == query && *id == shown.id;
        if !self.shown_spans.as_ref().is_some_and(found_for) {
            let slot = if model.events as f64 <= self.inline_events {
                Slot::Done(matching_spans(model, query))
            } else {
                let (model, q) = (model.clone(), query.clone());
                Slot::Running(Job::spawn_for_view("highlight", ctx, move || {
                    matching_spans(&model, &q)
                }))
            };
            self.shown_spans = Some(((query.clone(), shown.id), slot));
        }
        let spans = match &mut self.shown_spans {
            Some((_, slot)) => slot.get().unwrap_or(&NO_SPANS),
            None => &NO_SPANS,
        };
        Some(Highlight {
            goroutines: &self.matches.goroutines,
            spans,
        })
    }

    /// Draws the bar and its results; returns the result the user picked. `model` is the
    /// one shown, `trace` the document's (see `update`).
    pub(crate) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        model: &Arc<Model>,
        trace: &OpenTrace,
    ) -> Option<Hit> {
        if !self.open {
            return None;
        }
        let mut picked = None;
        ui.horizontal(|ui| {
            ui.label("Find");
            let field = ui.add(
                egui::TextEdit::singleline(&mut self.query)
                    .id_salt("search-field")
                    .hint_text("g123, p3, m5 or a function name")
                    .desired_width(320.0),
            );
            if self.want_focus {
                field.request_focus();
                self.want_focus = false;
            }
            self.update(ui.ctx(), model, trace);
            // Once the search is over: what a search in pieces found so far may not hold
            // the first match yet.
            if self.show_first
                && !self.searching()
                && self.matched.as_ref().map(|m| m.0.as_str()) == Some(self.query.as_str())
            {
                self.show_first = false;
                picked = self.matches.hits.first().cloned();
            }
            let (enter, esc, down, up) = ui.input(|i| {
                (
                    i.key_pressed(egui::Key::Enter),
                    i.key_pressed(egui::Key::Escape),
                    i.key_pressed(egui::Key::ArrowDown),
                    i.key_pressed(egui::Key::ArrowUp),
                )
            });
            let n = self.matches.hits.len();
            if field.has_focus() && n > 0 {
                if down {
                    self.cursor = (self.cursor + 1).min(n - 1);
                    picked = self.matches.hits.get(self.cursor).cloned();
                }
                if up {
                    self.cursor = self.cursor.saturating_sub(1);
                    picked = self.matches.hits.get(self.cursor).cloned();
                }
            }
            // Enter shows the result under the cursor (of this query's matches, not the
            // last query's) and keeps the field focused for the next ↑/↓.
            if field.lost_focus() && enter && !self.searching() {
                picked = self.matches.hits.get(self.cursor).cloned();
                field.request_focus();
            }
            if esc {
                self.open = false;
            }
            if self.searching() {
                ui.spinner();
                if let Some((done, of)) = self.pieces.done_of() {
                    let n = self.matches.hits.len();
                    ui.label(
                        egui::RichText::new(format!(
                            "searching the trace, piece {done} of {of}: {n}{} so far",
                            if self.matches.truncated { "+" } else { "" }
                        ))
                        .small(),
                    );
                }
            } else if !self.query.trim().is_empty() {
                let n = self.matches.hits.len();
                ui.label(
                    egui::RichText::new(format!(
                        "{n}{} result{}",
                        if self.matches.truncated { "+" } else { "" },
                        if n == 1 { "" } else { "s" }
                    ))
                    .small(),
                );
                if let Some(e) = &self.failure {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        egui::RichText::new(format!("not all of the trace was searched: {e}"))
                            .small(),
                    );
                }
            }
            if ui.small_button("Close").clicked() {
                self.open = false;
            }
        });
        if self.open && !self.matches.hits.is_empty() {
            // Tall enough to read a dozen results; the one under the cursor is marked.
            let rows = self.matches.hits.len().min(14) as f32;
            let row_h = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
            let mut clicked = None;
            // The top panel leaves a scroll area the least height it may take (64 points):
            // that height is asked for.
            let height = rows * row_h + 4.0;
            egui::ScrollArea::vertical()
                .id_salt("search-results")
                .min_scrolled_height(height)
                .max_height(height)
                .show(ui, |ui| {
                    for (k, hit) in self.matches.hits.iter().enumerate() {
                        let r = ui.selectable_label(k == self.cursor, describe(model, hit));
                        if k == self.cursor
                            && (ui.input(|i| {
                                i.key_pressed(egui::Key::ArrowDown)
                                    || i.key_pressed(egui::Key::ArrowUp)
                            }))
                        {
                            r.scroll_to_me(None);
                        }
                        if r.clicked() {
                            clicked = Some(k);
                        }
                    }
                });
            if let Some(k) = clicked {
                self.cursor = k;
                picked = self.matches.hits.get(k).cloned();
            }
        }
        picked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A search over a trace opened as an overview finds what a search of the whole model
    /// finds (spans but for their index in the model searched), on every committed trace
    /// and its cuts, in one piece and in many.
    #[test]
    fn a_search_in_pieces_finds_what_the_whole_model_search_does() {
        use std::sync::atomic::AtomicBool;
        let queries = [
            "main.",
            "chan",
            "sync",
            "http client",
            "g1",
            "no such function",
        ];
        let (mut compared, mut with_spans, mut overview_missed) = (0, 0, 0);
        let mut pieces_reported = 0;
        for (name, data) in goscope_testdata::all_traces_and_cuts() {
            let Ok(whole) = goscope_model::build(&data[..]) else {
                continue;
            };
            let cancel = AtomicBool::new(false);
            let Ok((overview, resumes)) =
                goscope_model::build_overview(&data[..], &cancel, &mut |_| {}, 0, None)
            else {
                continue;
            };
            if resumes.generations() == 0 {
                continue;
            }
            for q in queries {
                let mut want = search(&whole, q);
                for h in &mut want.hits {
                    if let Hit::Span { span, .. } = h {
                        *span = None;
                    }
                }
                for piece_bytes in [u64::MAX, 4 << 10] {
                    // The reports: pieces done, and the first and the last lists so far.
                    let mut done = Vec::new();
                    let (mut first, mut last) = (None, None);
                    let got = search_in_pieces(
                        &data[..],
                        &resumes,
                        &overview,
                        q,
                        piece_bytes,
                        &cancel,
                        &mut |p| {
                            if first.is_none() {
                                first = Some(p.so_far());
                            } else if p.done_of.is_some_and(|(k, n)| k == n) {
                                last = Some(p.so_far());
                            }
                            done.push(p.done_of);
                        },
                    )
                    .unwrap();
                    assert_eq!(
                        got.hits, want.hits,
                        "{name}: {q:?} in pieces of {piece_bytes}"
                    );
                    assert_eq!(got.truncated, want.truncated, "{name}: {q:?}");
                    assert_eq!(got.goroutines, want.goroutines, "{name}: {q:?}");
                    assert!(got.spans.is_empty());
                    compared += 1;
                    if done.is_empty() {
                        // An id's search (the overview answers it whole).
                        assert!(prefixed_id(q, 'g').is_some(), "{name}: {q:?}");
                        continue;
                    }
                    // Before any piece, the overview's hits; then every piece in turn, the
                    // last with everything found.
                    let n = done.len() - 1;
                    let want_done: Vec<_> = std::iter::once(None)
                        .chain((1..=n).map(|k| Some((k, n))))
                        .collect();
                    assert_eq!(done, want_done, "{name}: {q:?} in pieces of {piece_bytes}");
                    if piece_bytes != u64::MAX {
                        pieces_reported = pieces_reported.max(n);
                    }
                    let first = first.unwrap();
                    let named: Vec<Hit> = want
                        .hits
                        .iter()
                        .filter(|h| !matches!(h, Hit::Span { .. }))
                        .cloned()
                        .collect();
                    assert_eq!(
                        first.hits, named,
                        "{name}: {q:?}: the overview's hits first"
                    );
                    let last = last.unwrap();
                    assert_eq!(last.hits, got.hits, "{name}: {q:?}");
                    assert_eq!(last.goroutines, got.goroutines, "{name}: {q:?}");
                }
                let spans = want
                    .hits
                    .iter()
                    .filter(|h| matches!(h, Hit::Span { .. }))
                    .count();
                if spans > 0 {
                    with_spans += 1;
                }
                if search(&overview, q).goroutines != want.goroutines {
                    overview_missed += 1;
                }
            }
        }
        assert!(compared > 500, "only {compared} searches compared");
        assert!(
            pieces_reported > 10,
            "at most {pieces_reported} pieces reported"
        );
        assert!(with_spans > 150, "only {with_spans} searches found spans");
        assert!(
            overview_missed >= 10,
            "the overview's own search missed goroutines only {overview_missed} times"
        );
    }

    /// A search under an overview that was stopped (its query changed) does not stand for
    /// its query, even when the query has changed back before it ended: that query is
    /// searched again, not left with what the stopped search had found.
    #[test]
    fn a_stopped_search_is_not_its_querys_matches() {
        let name = "generations-go127";
        let file = goscope_file::TraceFile::open(&crate::testdata::trace_path(name)).unwrap();
        let file = Arc::new(file);
        let cancel = AtomicBool::new(false);
        let (overview, resumes) =
            goscope_model::build_overview(&**file, &cancel, &mut |_| {}, 0, None).unwrap();
        let trace = OpenTrace::overview(file, Arc::new(overview), resumes);
        let ctx = egui::Context::default();
        let mut bar = SearchBar::default();
        let key = |q: &str| (q.to_string(), Arc::as_ptr(&trace.model) as usize);
        // "main." is being searched (by hand: it ends when told)...
        bar.query = "main.".into();
        bar.running = Some((key("main."), Job::by_hand()));
        // ...when the query changes, which stops it, and changes back.
        bar.query = "main.x".into();
        bar.update(&ctx, &trace.model, &trace);
        assert!(
            bar.pieces
                .cancel()
                .load(std::sync::atomic::Ordering::Relaxed)
        );
        bar.query = "main.".into();
        // The stopped search ends as one does, with the read's error.
        if let Some((_, job)) = &bar.running {
            job.finish(Err("reading was cancelled".into()));
        }
        bar.update(&ctx, &trace.model, &trace);
        assert_ne!(
            bar.matched,
            Some(key("main.")),
            "the stopped search's matches kept"
        );
        assert_eq!(bar.failure, None, "a stopped search did not fail");
        let (searching, _) = bar.running.as_ref().expect("main. searched again");
        assert_eq!(*searching, key("main."));
        // And that search finds what a whole model's does.
        let whole = crate::testdata::model(name);
        let t0 = std::time::Instant::now();
        while t0.elapsed() < crate::testdata::BACKGROUND_WAIT {
            bar.update(&ctx, &trace.model, &trace);
            if !bar.searching() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(bar.matched, Some(key("main.")));
        assert_eq!(bar.matches.goroutines, search(&whole, "main.").goroutines);
        assert!(!bar.matches.hits.is_empty());
    }

    /// The search bar opened on a trace as an overview, searching `query` until it is
    /// done; `bytes` are what its pieces are read from (the overview is built from the
    /// committed trace `name`).
    fn searched_overview(name: &str, bytes: Vec<u8>, query: &str) -> SearchBar {
        let good = crate::testdata::trace_bytes(name);
        let cancel = AtomicBool::new(false);
        let (overview, resumes) =
            goscope_model::build_overview(&good[..], &cancel, &mut |_| {}, 0, None).unwrap();
        let file = goscope_file::TraceFile::from_bytes(name.into(), bytes);
        let trace = OpenTrace::overview(Arc::new(file), Arc::new(overview), resumes);
        let ctx = egui::Context::default();
        let mut bar = SearchBar {
            query: query.into(),
            ..SearchBar::default()
        };
        let t0 = std::time::Instant::now();
        while t0.elapsed() < crate::testdata::BACKGROUND_WAIT {
            bar.update(&ctx, &trace.model, &trace);
            if bar.matched.is_some() && !bar.searching() {
                return bar;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        panic!("the search of {query:?} did not end");
    }

    /// A search under an overview that cannot read a piece of the trace (its bytes changed
    /// since the overview was built) keeps what it found before and says why it stopped,
    /// and is not started again.
    #[test]
    fn a_search_that_cannot_read_the_trace_says_so() {
        let name = "generations-go127";
        let good = crate::testdata::trace_bytes(name);
        let whole = crate::testdata::model(name);
        let mut bad = good.clone();
        let mid = bad.len() / 2;
        bad[mid..].fill(0xff);
        let bar = searched_overview(name, bad, "main.");
        let failure = bar.failure.clone().expect("the failure said");
        assert!(failure.contains("offset"), "{failure}");
        // The overview's hits, found before the first piece.
        let named: Vec<Hit> = search(&whole, "main.")
            .hits
            .into_iter()
            .filter(|h| !matches!(h, Hit::Span { .. }))
            .collect();
        assert!(!named.is_empty());
        assert!(
            bar.matches.hits.starts_with(&named),
            "{:?}",
            bar.matches.hits
        );
        // Found again on a good read: no failure.
        let bar = searched_overview(name, good, "main.");
        assert_eq!(bar.failure, None);
        assert_eq!(bar.matches.goroutines, search(&whole, "main.").goroutines);
    }

    fn stall() -> Model {
        crate::testdata::model("stall-go127")
    }

    #[test]
    fn tasks_regions_and_logs_are_found_by_name_and_text() {
        let m = crate::testdata::model("annotations-go127");
        let tasks = |q: &str| {
            search(&m, q)
                .hits
                .iter()
                .filter(|h| matches!(h, Hit::Task(_)))
                .count()
        };
        assert_eq!(tasks("fetch"), 3);
        assert_eq!(tasks("FETCH"), 3, "case-insensitive");
        assert_eq!(tasks("request"), 1);
        let regions = search(&m, "lookup")
            .hits
            .iter()
            .filter(|h| matches!(h, Hit::Region { .. }))
            .count();
        let want = m
            .goroutines
            .iter()
            .flat_map(|g| &g.regions)
            .filter(|r| m.string(r.name) == "lookup")
            .count();
        assert!(want > 0);
        assert_eq!(regions, want);
        let logs: Vec<usize> = search(&m, "part 1")
            .hits
            .iter()
            .filter_map(|h| match h {
                Hit::Log(i) => Some(*i),
                _ => None,
            })
            .collect();
        assert_eq!(logs.len(), 1);
        assert!(
            m.string(m.logs[logs[0]].message)
                .to_lowercase()
                .contains("part 1")
        );
        assert!(describe(&m, &Hit::Log(logs[0])).starts_with("Log ["));
    }

    #[test]
    fn ids_processors_and_threads() {
        let m = stall();
        let g = m.goroutines[m.goroutines.len() / 2].id;
        let r = search(&m, &format!("g{g}"));
        assert_eq!(r.goroutines, vec![g]);
        assert!(matches!(r.hits[..], [Hit::Goroutine { g: x, .. }] if x == g));
        assert!(search(&m, "G999999").hits.is_empty());
        let p0 = search(&m, "p0");
        assert!(matches!(p0.hits[..], [Hit::Proc(i)] if m.procs[i].id == 0));
        let t = m.threads[0].id;
        assert!(matches!(
            search(&m, &format!("m{t}")).hits[..],
            [Hit::Thread(0)]
        ));
        assert!(search(&m, "  ").hits.is_empty());
    }

    #[test]
    fn a_tag_name_finds_the_spans_that_waited_on_it() {
        let m = goscope_model::build(&crate::testdata::trace_bytes("mixed-go127")).unwrap();
        let r = search(&m, "http client");
        assert!(!r.spans.is_empty());
        for (gi, si) in r.spans.iter() {
            let s = m.goroutines[gi].spans.at(si);
            let by_func = |st| {
                m.interner
                    .stack(st)
                    .any(|f| m.string(f.func).to_lowercase().contains("http client"))
            };
            assert!(
                m.span_tag(&s) == Some(Tag::HttpClient)
                    || by_func(s.start_stack)
                    || by_func(s.end_stack)
            );
        }
        assert!(
            r.hits
                .iter()
                .any(|h| matches!(h, Hit::Span { func, .. } if func == "waits on HTTP client"))
        );
    }

    #[test]
    fn a_function_name_finds_goroutines_and_the_spans_that_blocked_in_it() {
        let m = stall();
        let r = search(&m, "main.WAIT");
        assert!(!r.spans.is_empty(), "spans blocked in main.wait");
        // The spans whose stacks hold the function, and only those.
        let in_stack = |st| {
            m.interner
                .stack(st)
                .any(|f| m.string(f.func).to_lowercase().contains("main.wait"))
        };
        let mut holding = 0;
        for (gi, g) in m.goroutines.iter().enumerate() {
            for (si, s) in g.spans.iter().enumerate() {
                let holds = in_stack(s.end_stack) || in_stack(s.start_stack);
                holding += usize::from(holds);
                assert_eq!(r.spans.any_in(gi, si..si + 1), holds, "G{} span {si}", g.id);
            }
        }
        assert_eq!((r.spans.len(), r.spans.iter().count()), (holding, holding));
        // The longest matching span is the 1 s stall and comes first among spans.
        let first_span = r.hits.iter().find_map(|h| match h {
            Hit::Span { g, span, .. } => m.goroutine(*g).and_then(|gr| gr.spans.get((*span)?)),
            _ => None,
        });
        assert!(first_span.expect("a span hit").duration_ns() > 900_000_000);
        let stream = search(&m, "main.stream");
        assert!(
            stream
                .hits
                .iter()
                .any(|h| matches!(h, Hit::Goroutine { .. }))
        );
        assert!(stream.goroutines.windows(2).all(|w| w[0] < w[1]));
        assert!(search(&m, "no such function anywhere").hits.is_empty());
    }
}
