//! The one table widget of the analysis views: a header that sorts (with a painted
//! direction mark), rows laid out only when visible, columns of fixed or shared width
//! that the user can drag wider or narrower, and a header menu that copies or saves the
//! whole table as CSV or TSV.

use std::borrow::Cow;
use std::hash::Hash;

use egui::{
    Align, CursorIcon, Id, Layout, Pos2, Rect, RichText, Sense, Shape, Stroke, Ui, UiBuilder,
    WidgetInfo, WidgetText, pos2, vec2,
};

/// Narrowest a column can be dragged.
const MIN_COLUMN_PX: f32 = 28.0;
/// Narrowest a shared-width column gets before the table scrolls sideways.
const MIN_FLEX_PX: f32 = 80.0;
/// Room kept beside a sorted column's title for its direction mark.
const SORT_MARK_PX: f32 = 12.0;

/// A column: its title, width, and which side its text keeps to.
pub(crate) struct Column {
    pub(crate) title: Cow<'static, str>,
    /// Fixed width; 0 shares what the fixed columns leave with the other 0-width ones.
    pub(crate) width_px: f32,
    /// Right-aligned (numbers, durations).
    pub(crate) right: bool,
}

impl Column {
    /// A column with a fixed title.
    pub(crate) const fn new(title: &'static str, width_px: f32, right: bool) -> Column {
        Column {
            title: Cow::Borrowed(title),
            width_px,
            right,
        }
    }

    /// A column whose title is made at run time.
    pub(crate) fn named(title: String, width_px: f32, right: bool) -> Column {
        Column {
            title: Cow::Owned(title),
            width_px,
            right,
        }
    }
}

/// Which column a table is sorted by, and in which direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sort<C> {
    pub(crate) col: C,
    pub(crate) descending: bool,
}

impl<C: Copy + PartialEq> Sort<C> {
    /// The order after a click on `col`'s header: the same column flips direction; another
    /// starts descending if `descending_first` (sizes and times: largest first).
    pub(crate) fn clicked(self, col: C, descending_first: bool) -> Sort<C> {
        if col == self.col {
            Sort {
                col,
                descending: !self.descending,
            }
        } else {
            Sort {
                col,
                descending: descending_first,
            }
        }
    }
}

/// One row as the caller describes it for this frame.
pub(crate) struct Row {
    /// One text per column.
    pub(crate) cells: Vec<WidgetText>,
    pub(crate) selected: bool,
    /// What a screen reader (and a test) calls the row; none for rows read cell by cell.
    pub(crate) label: Option<String>,
    /// Shown when the pointer rests on the row.
    pub(crate) hover: Option<String>,
}

impl Row {
    /// A row of these texts, not selected, without a label or hover text.
    pub(crate) fn new<T: Into<WidgetText>>(cells: impl IntoIterator<Item = T>) -> Row {
        Row {
            cells: cells.into_iter().map(Into::into).collect(),
            selected: false,
            label: None,
            hover: None,
        }
    }

    pub(crate) fn selected(mut self, selected: bool) -> Row {
        self.selected = selected;
        self
    }

    pub(crate) fn label(mut self, label: String) -> Row {
        self.label = Some(label);
        self
    }

    pub(crate) fn hover(mut self, hover: Option<String>) -> Row {
        self.hover = hover;
        self
    }
}

/// A whole table written out from its header menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Export {
    CopyCsv,
    CopyTsv,
    SaveCsv,
}

/// The table as text: the titles, then one line a row, fields separated by `sep`. With
/// `,` it is CSV (RFC 4180: a field holding a comma, a quote or a line break is quoted,
/// its quotes doubled); with a tab it is TSV (tabs and line breaks in a field become
/// spaces).
pub(crate) fn delimited<'r>(
    titles: impl IntoIterator<Item = &'r str>,
    rows: impl IntoIterator<Item = Vec<String>>,
    sep: char,
) -> String {
    fn line<'f>(out: &mut String, fields: impl IntoIterator<Item = &'f str>, sep: char) {
        for (i, f) in fields.into_iter().enumerate() {
            if i > 0 {
                out.push(sep);
            }
            if sep != ',' {
                out.extend(f.chars().map(|c| {
                    if matches!(c, '\t' | '\n' | '\r') {
                        ' '
                    } else {
                        c
                    }
                }));
            } else if f.contains([',', '"', '\n', '\r']) {
                out.push('"');
                out.push_str(&f.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(f);
            }
        }
        out.push('\n');
    }
    let mut out = String::new();
    line(&mut out, titles, sep);
    for row in rows {
        line(&mut out, row.iter().map(String::as_str), sep);
    }
    out
}

/// A table's text waiting for a path to be saved to (no file dialog could be shown).
#[derive(Clone, Debug, Default)]
struct PendingSave {
    text: String,
    path: String,
    note: Option<String>,
}

/// What happened in a table this frame. Rows are positions in display order.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct TableOutput {
    /// The column whose header was clicked.
    pub(crate) sort_by: Option<usize>,
    pub(crate) clicked: Option<usize>,
    pub(crate) double_clicked: Option<usize>,
}

/// A table: build it each frame, then [`Table::show`] its rows.
pub(crate) struct Table<'a> {
    /// A hash of the caller's salt; the widget's id is made from it in the caller's `Ui`.
    salt: u64,
    id: Id,
    columns: &'a [Column],
    /// `Some` for a sortable table: the sorted column and whether it is descending.
    sorted: Option<Option<(usize, bool)>>,
    empty_text: Option<&'a str>,
    context_menu: Option<RowMenu<'a>>,
}

/// A menu on a row's right click, given the row's position.
type RowMenu<'a> = &'a mut dyn FnMut(&mut Ui, usize);

impl<'a> Table<'a> {
    /// `id_salt` tells this table from the others in the window (its scroll position and
    /// column widths are kept under it).
    pub(crate) fn new(id_salt: impl Hash, columns: &'a [Column]) -> Table<'a> {
        use std::hash::Hasher;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        id_salt.hash(&mut h);
        Table {
            salt: h.finish(),
            id: Id::NULL,
            columns,
            sorted: None,
            empty_text: None,
            context_menu: None,
        }
    }

    /// Makes the headers clickable; `sorted` is the column the rows are in order of, and
    /// whether descending.
    pub(crate) fn sorted(mut self, sorted: Option<(usize, bool)>) -> Table<'a> {
        self.sorted = Some(sorted);
        self
    }

    /// Shown instead of rows when there are none.
    pub(crate) fn empty_text(mut self, text: &'a str) -> Table<'a> {
        self.empty_text = Some(text);
        self
    }

    /// A menu on a row's right click; gets the row's position.
    pub(crate) fn context_menu(mut self, menu: RowMenu<'a>) -> Table<'a> {
        self.context_menu = Some(menu);
        self
    }

    /// Lays out the header and the visible ones of `n_rows` rows, asking `row` for each
    /// (a `None` leaves the row blank). Takes the height there is.
    pub(crate) fn show(
        mut self,
        ui: &mut Ui,
        n_rows: usize,
        mut row: impl FnMut(usize) -> Option<Row>,
    ) -> TableOutput {
        self.id = ui.make_persistent_id(self.salt);
        let mut out = TableOutput::default();
        let row_px = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
        // Leave room for the vertical scroll bar so the header lines up with the cells.
        let avail_px = (ui.available_width() - ui.spacing().scroll.bar_width - 4.0).max(40.0);
        let widths_id = self.id.with("widths");
        let mut widths: Vec<f32> = ui
            .data(|d| d.get_temp::<Vec<f32>>(widths_id))
            .filter(|w| w.len() == self.columns.len())
            .unwrap_or_else(|| self.columns.iter().map(|c| c.width_px).collect());
        let col_px = column_widths(&widths, avail_px);
        let total_px: f32 = col_px.iter().sum();

        egui::ScrollArea::horizontal()
            .id_salt(self.id.with("h"))
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.spacing_mut().item_spacing.y = 0.0;
                let mut export = None;
                if let Some((i, px)) =
                    self.header_ui(ui, &col_px, total_px, row_px, &mut out, &mut export)
                {
                    widths[i] = px;
                    ui.data_mut(|d| d.insert_temp(widths_id, widths.clone()));
                }
                if let Some(export) = export {
                    self.export(ui, export, n_rows, &mut row);
                }
                if n_rows == 0 {
                    if let Some(text) = self.empty_text {
                        ui.add_space(4.0);
                        ui.label(RichText::new(text).weak());
                    }
                    return;
                }
                egui::ScrollArea::vertical()
                    .id_salt(self.id.with("v"))
                    .auto_shrink([false, false])
                    .show_rows(ui, row_px, n_rows, |ui, range| {
                        for pos in range {
                            let spec = row(pos);
                            let r = row_ui(ui, self.columns, &col_px, row_px, pos, spec);
                            if r.double_clicked() {
                                out.double_clicked = Some(pos);
                            } else if r.clicked() {
                                out.clicked = Some(pos);
                            }
                            if let Some(menu) = self.context_menu.as_mut() {
                                r.context_menu(|ui| menu(ui, pos));
                            }
                        }
                    });
            });
        self.pending_save_ui(ui);
        out
    }

    /// Writes the whole table out: every row, as the rows closure gives them now.
    fn export(
        &self,
        ui: &Ui,
        export: Export,
        n_rows: usize,
        row: &mut impl FnMut(usize) -> Option<Row>,
    ) {
        let sep = if export == Export::CopyTsv { '\t' } else { ',' };
        let rows = (0..n_rows).filter_map(row).map(|r| {
            r.cells
                .iter()
                .map(|c| c.text().to_string())
                .collect::<Vec<_>>()
        });
        let text = delimited(self.columns.iter().map(|c| c.title.as_ref()), rows, sep);
        match export {
            Export::CopyCsv | Export::CopyTsv => ui.ctx().copy_text(text),
            Export::SaveCsv => {
                let name = "table.csv";
                let dialog = super::dialog::available();
                let picked = dialog
                    .then(|| {
                        rfd::FileDialog::new()
                            .set_title("Save the table as CSV")
                            .set_file_name(name)
                            .save_file()
                    })
                    .flatten();
                let mut pending = PendingSave {
                    text,
                    path: name.to_string(),
                    note: None,
                };
                match picked {
                    Some(p) => {
                        pending.note = Some(save_note(&p, &pending.text));
                        pending.path = p.display().to_string();
                        pending.text.clear();
                    }
                    None if !dialog => {
                        pending.note = Some(
                            "No file dialog is available here: type the path to write.".into(),
                        );
                    }
                    // Cancelled.
                    None => return,
                }
                ui.data_mut(|d| d.insert_temp(self.id.with("save"), pending));
            }
        }
    }

    /// The path field of a save that no dialog could take, and what a save did.
    fn pending_save_ui(&self, ui: &Ui) {
        let id = self.id.with("save");
        let Some(mut pending) = ui.data(|d| d.get_temp::<PendingSave>(id)) else {
            return;
        };
        let mut open = true;
        egui::Window::new("Save the table as CSV")
            .id(id.with("window"))
            .open(&mut open)
            .collapsible(false)
            .show(ui.ctx(), |ui| {
                if !pending.text.is_empty() {
                    ui.horizontal(|ui| {
                        let label = ui.label("Path");
                        ui.add(egui::TextEdit::singleline(&mut pending.path).desired_width(300.0))
                            .labelled_by(label.id);
                        if ui.button("Save").clicked() {
                            let path = std::path::PathBuf::from(pending.path.trim());
                            pending.note = Some(save_note(&path, &pending.text));
                            if !pending
                                .note
                                .as_deref()
                                .is_some_and(|n| n.starts_with("Cannot"))
                            {
                                pending.text.clear();
                            }
                        }
                    });
                }
                if let Some(note) = &pending.note {
                    ui.label(note);
                }
            });
        if open {
            ui.data_mut(|d| d.insert_temp(id, pending));
        } else {
            ui.data_mut(|d| d.remove::<PendingSave>(id));
        }
    }

    /// The header row: titles (wrapped to their column), the sort mark, and drag handles
    /// between columns. Returns a column the user resized, with its new width.
    fn header_ui(
        &self,
        ui: &mut Ui,
        col_px: &[f32],
        total_px: f32,
        row_px: f32,
        out: &mut TableOutput,
        export: &mut Option<Export>,
    ) -> Option<(usize, f32)> {
        let visuals = ui.visuals().clone();
        let font = egui::TextStyle::Body.resolve(ui.style());
        let color = visuals.strong_text_color();
        let sorted = self.sorted.flatten();
        let galleys: Vec<_> = self
            .columns
            .iter()
            .zip(col_px)
            .enumerate()
            .map(|(i, (c, &w))| {
                let mark = if sorted.is_some_and(|(s, _)| s == i) {
                    SORT_MARK_PX
                } else {
                    0.0
                };
                let wrap = (w - 8.0 - mark).max(8.0);
                ui.painter()
                    .layout(c.title.to_string(), font.clone(), color, wrap)
            })
            .collect();
        let header_px = galleys
            .iter()
            .map(|g| g.size().y + 4.0)
            .fold(row_px, f32::max);
        let (header, _) = ui.allocate_exact_size(vec2(total_px, header_px), Sense::hover());
        let mut resized = None;
        let mut x = header.left();
        for (i, ((c, &w), galley)) in self.columns.iter().zip(col_px).zip(galleys).enumerate() {
            let cell = Rect::from_min_size(pos2(x, header.top()), vec2(w, header_px));
            x += w;
            // Clicks sort (in a sortable table); a right click opens the table's menu.
            let r = ui.interact(cell, self.id.with(("header", i)), Sense::click());
            if self.sorted.is_some() && r.hovered() {
                ui.painter()
                    .rect_filled(cell, 2.0, visuals.widgets.hovered.weak_bg_fill);
            }
            let text_size = galley.size();
            let inner = cell.shrink2(vec2(4.0, 0.0));
            let text_x = if c.right {
                inner.right() - text_size.x
            } else {
                inner.left()
            };
            let text_pos = pos2(text_x, cell.center().y - text_size.y / 2.0);
            ui.painter()
                .with_clip_rect(cell.intersect(ui.clip_rect()))
                .galley(text_pos, galley, color);
            let this_sorted = sorted.filter(|&(s, _)| s == i).map(|(_, d)| d);
            if let Some(descending) = this_sorted {
                // Before a right-aligned title, after a left-aligned one, so the title lines
                // up with the cells below it.
                let mark_x = if c.right {
                    text_x - SORT_MARK_PX / 2.0 - 2.0
                } else {
                    text_x + text_size.x + SORT_MARK_PX / 2.0 + 2.0
                };
                paint_sort_mark(ui, pos2(mark_x, cell.center().y), descending, color);
            }
            let label = match this_sorted {
                Some(true) => format!("{}, sorted descending", c.title),
                Some(false) => format!("{}, sorted ascending", c.title),
                None => c.title.to_string(),
            };
            let role = if self.sorted.is_some() {
                egui::Role::Button
            } else {
                egui::Role::Label
            };
            r.widget_info(|| WidgetInfo::labeled(role, self.sorted.is_some(), &label));
            if r.clicked() && self.sorted.is_some() {
                out.sort_by = Some(i);
                // The rows were laid out in the old order this frame.
                ui.ctx().request_repaint();
            }
            r.context_menu(|ui| {
                for (what, text) in [
                    (Export::CopyCsv, "Copy table as CSV"),
                    (Export::CopyTsv, "Copy table as TSV"),
                    (Export::SaveCsv, "Save table as CSV…"),
                ] {
                    if ui.button(text).clicked() {
                        *export = Some(what);
                        ui.close();
                    }
                }
            });

            // A handle on the column's right edge widens or narrows it.
            let edge =
                Rect::from_center_size(pos2(cell.right(), cell.center().y), vec2(6.0, header_px));
            let handle = ui.interact(edge, self.id.with(("resize", i)), Sense::drag());
            let stroke = if handle.hovered() || handle.dragged() {
                ui.ctx().set_cursor_icon(CursorIcon::ResizeHorizontal);
                visuals.widgets.hovered.fg_stroke
            } else {
                visuals.widgets.noninteractive.bg_stroke
            };
            if i + 1 < self.columns.len() {
                ui.painter()
                    .vline(cell.right(), cell.y_range().shrink(3.0), stroke);
            }
            if handle.dragged() {
                let px = (w + handle.drag_delta().x).max(MIN_COLUMN_PX);
                resized = Some((i, px));
            }
        }
        ui.painter().hline(
            header.x_range(),
            header.bottom(),
            visuals.widgets.noninteractive.bg_stroke,
        );
        resized
    }
}

/// What writing `text` to `path` did, in words.
fn save_note(path: &std::path::Path, text: &str) -> String {
    match std::fs::write(path, text) {
        Ok(()) => format!("Saved {} ({} bytes).", path.display(), text.len()),
        Err(e) => format!("Cannot write {}: {e}", path.display()),
    }
}

/// The width of each column: fixed ones as set, shared ones (0) split what is left of
/// `avail_px`, each at least [`MIN_FLEX_PX`].
pub(crate) fn column_widths(widths_px: &[f32], avail_px: f32) -> Vec<f32> {
    let fixed_px: f32 = widths_px.iter().filter(|&&w| w > 0.0).sum();
    let n_flex = widths_px.iter().filter(|&&w| w <= 0.0).count();
    let flex_px = if n_flex == 0 {
        0.0
    } else {
        ((avail_px - fixed_px) / n_flex as f32).max(MIN_FLEX_PX)
    };
    widths_px
        .iter()
        .map(|&w| if w > 0.0 { w } else { flex_px })
        .collect()
}

/// One row: background (selection, hover, stripes), cells as truncated labels, and the
/// row's own click response.
fn row_ui(
    ui: &mut Ui,
    columns: &[Column],
    col_px: &[f32],
    row_px: f32,
    pos: usize,
    spec: Option<Row>,
) -> egui::Response {
    let total_px: f32 = col_px.iter().sum();
    let (rect, r) = ui.allocate_exact_size(vec2(total_px, row_px), Sense::click());
    let Some(spec) = spec else { return r };
    if ui.is_rect_visible(rect) {
        let visuals = ui.visuals();
        let fill = if spec.selected {
            Some(visuals.selection.bg_fill)
        } else if r.hovered() {
            Some(visuals.widgets.hovered.weak_bg_fill)
        } else if pos % 2 == 1 {
            Some(visuals.faint_bg_color)
        } else {
            None
        };
        if let Some(fill) = fill {
            ui.painter().rect_filled(rect, 0.0, fill);
        }
        let selected_text = spec.selected.then_some(visuals.selection.stroke.color);
        let mut x = rect.left();
        for ((c, &w), text) in columns.iter().zip(col_px).zip(spec.cells) {
            let cell = Rect::from_min_size(pos2(x, rect.top()), vec2(w, row_px));
            x += w;
            cell_ui(ui, cell, text, c.right, selected_text);
        }
    }
    let r = match spec.label {
        Some(label) => {
            r.widget_info(|| WidgetInfo::selected(egui::Role::Button, true, spec.selected, &label));
            r
        }
        None => r,
    };
    match spec.hover {
        Some(h) => r.on_hover_text(h),
        None => r,
    }
}

/// A one-line, truncated label in `cell`.
fn cell_ui(ui: &mut Ui, cell: Rect, text: WidgetText, right: bool, color: Option<egui::Color32>) {
    let layout = if right {
        Layout::right_to_left(Align::Center)
    } else {
        Layout::left_to_right(Align::Center)
    };
    let mut child = ui.new_child(
        UiBuilder::new()
            .max_rect(cell.shrink2(vec2(4.0, 0.0)))
            .layout(layout),
    );
    if let Some(color) = color {
        child.visuals_mut().override_text_color = Some(color);
    }
    child.add(egui::Label::new(text).truncate().selectable(false));
}

/// A small triangle pointing up (ascending) or down (descending), centred on `at`. The
/// bundled fonts have no arrow glyphs, so it is painted.
fn paint_sort_mark(ui: &Ui, at: Pos2, descending: bool, color: egui::Color32) {
    let (w, h) = (4.0, 3.0);
    let points = if descending {
        vec![
            pos2(at.x - w, at.y - h),
            pos2(at.x + w, at.y - h),
            pos2(at.x, at.y + h),
        ]
    } else {
        vec![
            pos2(at.x - w, at.y + h),
            pos2(at.x, at.y - h),
            pos2(at.x + w, at.y + h),
        ]
    };
    ui.painter()
        .add(Shape::convex_polygon(points, color, Stroke::NONE));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_written_as_csv_and_tsv() {
        let rows = || {
            vec![
                vec!["main.worker".to_string(), "1.5 ms".to_string()],
                vec!["a, \"quoted\"\nname".to_string(), "2\t3".to_string()],
            ]
        };
        assert_eq!(
            delimited(["Name", "Total"], rows(), ','),
            "Name,Total\nmain.worker,1.5 ms\n\"a, \"\"quoted\"\"\nname\",2\t3\n"
        );
        assert_eq!(
            delimited(["Name", "Total"], rows(), '\t'),
            "Name\tTotal\nmain.worker\t1.5 ms\na, \"quoted\" name\t2 3\n"
        );
        assert_eq!(delimited(["A"], Vec::<Vec<String>>::new(), ','), "A\n");
    }

    #[test]
    fn shared_columns_split_what_the_fixed_ones_leave() {
        assert_eq!(
            column_widths(&[100.0, 0.0, 0.0], 500.0),
            vec![100.0, 200.0, 200.0]
        );
        assert_eq!(column_widths(&[100.0, 50.0], 500.0), vec![100.0, 50.0]);
        // Too narrow: shared columns keep their minimum and the table scrolls.
        assert_eq!(
            column_widths(&[300.0, 0.0], 320.0),
            vec![300.0, MIN_FLEX_PX]
        );
    }

    #[test]
    fn a_click_on_the_sorted_column_flips_it_and_another_starts_its_natural_way() {
        let s = Sort {
            col: 1,
            descending: false,
        };
        assert_eq!(
            s.clicked(1, true),
            Sort {
                col: 1,
                descending: true
            }
        );
        assert_eq!(
            s.clicked(2, true),
            Sort {
                col: 2,
                descending: true
            }
        );
        assert_eq!(
            s.clicked(2, false),
            Sort {
                col: 2,
                descending: false
            }
        );
    }
}
