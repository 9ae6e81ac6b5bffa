//! Small widgets shared by the analysis views: a sortable column header whose direction
//! mark is painted (the bundled fonts have no arrow glyphs).

use egui::{Pos2, Response, RichText, Sense, Shape, Stroke, Ui, Vec2};

/// A clickable column header. `sorted` is `Some(descending)` for the column the table is
/// sorted by; a small triangle then shows the direction. Its accessible label is `title`.
pub(crate) fn sort_header(ui: &mut Ui, title: &str, sorted: Option<bool>) -> Response {
    let r = ui.add(
        egui::Button::new(RichText::new(title).strong().small())
            .frame(false)
            .wrap(),
    );
    if let Some(descending) = sorted {
        let c = Pos2::new(r.rect.right() + 7.0, r.rect.center().y);
        let (tip, base) = if descending { (4.0, -3.0) } else { (-4.0, 3.0) };
        ui.painter().add(Shape::convex_polygon(
            vec![
                Pos2::new(c.x, c.y + tip),
                Pos2::new(c.x - 4.0, c.y + base),
                Pos2::new(c.x + 4.0, c.y + base),
            ],
            ui.visuals().strong_text_color(),
            Stroke::NONE,
        ));
        ui.allocate_exact_size(Vec2::new(14.0, 1.0), Sense::hover());
    }
    r
}
