//! Plane geometry for text boxes: convex hulls and minimum-area rectangles.

/// A point in pixel coordinates.
pub type Point = (f32, f32);

/// A rotated rectangle: centre, side lengths and the direction of the `width` side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RotatedRect {
    /// Centre.
    pub center: Point,
    /// Length along `dir`.
    pub width: f32,
    /// Length across `dir`.
    pub height: f32,
    /// Unit vector of the width side.
    pub dir: Point,
}

impl RotatedRect {
    /// The shorter side.
    pub fn short_side(&self) -> f32 {
        self.width.min(self.height)
    }

    /// The rectangle grown by `d` on every side.
    pub fn grown(&self, d: f32) -> RotatedRect {
        RotatedRect {
            width: self.width + 2.0 * d,
            height: self.height + 2.0 * d,
            ..*self
        }
    }

    /// Corners ordered as PP-OCR orders them: the two leftmost points give the top-left and
    /// bottom-left (by height), the two rightmost the top-right and bottom-right. Returned as
    /// top-left, top-right, bottom-right, bottom-left.
    pub fn corners(&self) -> [Point; 4] {
        let (ux, uy) = self.dir;
        let (vx, vy) = (-uy, ux);
        let (cx, cy) = self.center;
        let (hw, hh) = (self.width / 2.0, self.height / 2.0);
        let p = |a: f32, b: f32| (cx + a * ux + b * vx, cy + a * uy + b * vy);
        let mut pts = [p(-hw, -hh), p(hw, -hh), p(hw, hh), p(-hw, hh)];
        pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let (tl, bl) = if pts[0].1 <= pts[1].1 {
            (pts[0], pts[1])
        } else {
            (pts[1], pts[0])
        };
        let (tr, br) = if pts[2].1 <= pts[3].1 {
            (pts[2], pts[3])
        } else {
            (pts[3], pts[2])
        };
        [tl, tr, br, bl]
    }
}

fn cross(o: Point, a: Point, b: Point) -> f32 {
    (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
}

/// Convex hull (Andrew's monotone chain); collinear points are dropped.
pub fn convex_hull(mut points: Vec<Point>) -> Vec<Point> {
    points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    points.dedup();
    if points.len() < 3 {
        return points;
    }
    let mut hull: Vec<Point> = Vec::with_capacity(points.len() + 1);
    // Lower chain left to right, then upper chain right to left; the upper chain never pops
    // into the lower one.
    for &p in &points {
        while hull.len() >= 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0 {
            hull.pop();
        }
        hull.push(p);
    }
    let lower = hull.len() + 1;
    for &p in points.iter().rev().skip(1) {
        while hull.len() >= lower && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0 {
            hull.pop();
        }
        hull.push(p);
    }
    hull.pop();
    hull
}

/// The minimum-area rectangle enclosing `points` (rotating calipers over the hull's edges).
pub fn min_area_rect(points: Vec<Point>) -> Option<RotatedRect> {
    let hull = convex_hull(points);
    match hull.len() {
        0 => return None,
        1 => {
            return Some(RotatedRect {
                center: hull[0],
                width: 0.0,
                height: 0.0,
                dir: (1.0, 0.0),
            })
        }
        _ => {}
    }
    let mut best: Option<(f32, RotatedRect)> = None;
    for i in 0..hull.len() {
        let a = hull[i];
        let b = hull[(i + 1) % hull.len()];
        let len = (b.0 - a.0).hypot(b.1 - a.1);
        if len == 0.0 {
            continue;
        }
        let (ux, uy) = ((b.0 - a.0) / len, (b.1 - a.1) / len);
        let (mut lo_u, mut hi_u, mut lo_v, mut hi_v) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for p in &hull {
            let u = p.0 * ux + p.1 * uy;
            let v = -p.0 * uy + p.1 * ux;
            lo_u = lo_u.min(u);
            hi_u = hi_u.max(u);
            lo_v = lo_v.min(v);
            hi_v = hi_v.max(v);
        }
        let area = (hi_u - lo_u) * (hi_v - lo_v);
        if best.as_ref().is_none_or(|(a, _)| area < *a) {
            let (cu, cv) = ((lo_u + hi_u) / 2.0, (lo_v + hi_v) / 2.0);
            let center = (cu * ux - cv * uy, cu * uy + cv * ux);
            best = Some((
                area,
                RotatedRect {
                    center,
                    width: hi_u - lo_u,
                    height: hi_v - lo_v,
                    dir: (ux, uy),
                },
            ));
        }
    }
    best.map(|(_, r)| r)
}

/// Whether `p` lies inside the convex quadrilateral `q` (corners in order, either winding).
pub fn inside_quad(q: &[Point; 4], p: Point) -> bool {
    let mut sign = 0.0f32;
    for i in 0..4 {
        let c = cross(q[i], q[(i + 1) % 4], p);
        if c != 0.0 {
            if sign != 0.0 && c.signum() != sign {
                return false;
            }
            sign = c.signum();
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hull_of_a_square_with_inner_points() {
        let pts = vec![
            (0.0, 0.0),
            (2.0, 0.0),
            (2.0, 2.0),
            (0.0, 2.0),
            (1.0, 1.0),
            (1.0, 0.0),
        ];
        assert_eq!(convex_hull(pts).len(), 4);
    }

    #[test]
    fn min_rect_of_an_axis_aligned_box() {
        let mut pts = Vec::new();
        for x in 0..=10 {
            for y in 0..=3 {
                pts.push((x as f32, y as f32));
            }
        }
        let r = min_area_rect(pts).unwrap();
        let (w, h) = (r.width.max(r.height), r.width.min(r.height));
        assert!((w - 10.0).abs() < 1e-4 && (h - 3.0).abs() < 1e-4, "{r:?}");
        let c = r.corners();
        assert!(
            (c[0].0 - 0.0).abs() < 1e-4 && (c[0].1 - 0.0).abs() < 1e-4,
            "{c:?}"
        );
        assert!(
            (c[2].0 - 10.0).abs() < 1e-4 && (c[2].1 - 3.0).abs() < 1e-4,
            "{c:?}"
        );
    }

    #[test]
    fn min_rect_follows_a_tilted_line() {
        // A thin line at 30 degrees.
        let (c, s) = (30f32.to_radians().cos(), 30f32.to_radians().sin());
        let mut pts = Vec::new();
        for i in 0..=100 {
            for j in 0..=5 {
                let (u, v) = (i as f32, j as f32);
                pts.push((u * c - v * s, u * s + v * c));
            }
        }
        let r = min_area_rect(pts).unwrap();
        assert!((r.width.max(r.height) - 100.0).abs() < 0.5, "{r:?}");
        assert!((r.width.min(r.height) - 5.0).abs() < 0.5, "{r:?}");
        let q = r.corners();
        // Reading direction runs down-right at 30 degrees.
        let angle = (q[1].1 - q[0].1).atan2(q[1].0 - q[0].0).to_degrees();
        assert!((angle - 30.0).abs() < 1.0, "{angle}");
    }

    #[test]
    fn point_in_quad() {
        let q = [(0.0, 0.0), (4.0, 0.0), (4.0, 2.0), (0.0, 2.0)];
        assert!(inside_quad(&q, (1.0, 1.0)));
        assert!(!inside_quad(&q, (5.0, 1.0)));
    }
}
