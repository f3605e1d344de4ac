//! PNG and PDF renderings of a plot's SVG (resvg and svg2pdf), with the DejaVu Sans embedded
//! in the binary as the only font: no system fonts are read, so a figure comes out the same on
//! every machine.

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

/// DejaVu Sans (Bitstream Vera licence, see `assets/fonts/DejaVuSans.LICENSE`).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "DejaVu Sans";

/// Largest PNG scale factor (device pixels per SVG pixel): a 2000 × 2000 plot at 4× is a
/// 64-megapixel image, about 256 MB of pixels while it is encoded.
pub const MAX_SCALE: f32 = 4.0;

/// The formats a plot is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
    Pdf,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Svg, Format::Png, Format::Pdf];

    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.extension() == name)
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
            Format::Pdf => "pdf",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Svg => "image/svg+xml",
            Format::Png => "image/png",
            Format::Pdf => "application/pdf",
        }
    }
}

/// Parse options whose only font is the embedded one, standing in for every generic family
/// (the SVGs ask for `sans-serif`).
fn options() -> usvg::Options<'static> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    let fonts = FONTS.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(FONT.to_vec());
        db.set_sans_serif_family(FAMILY);
        db.set_serif_family(FAMILY);
        db.set_monospace_family(FAMILY);
        db.set_cursive_family(FAMILY);
        db.set_fantasy_family(FAMILY);
        Arc::new(db)
    });
    usvg::Options {
        font_family: FAMILY.into(),
        fontdb: fonts.clone(),
        ..usvg::Options::default()
    }
}

fn tree(svg: &str) -> Result<usvg::Tree, String> {
    usvg::Tree::from_str(svg, &options()).map_err(|e| format!("the plot's SVG: {e}"))
}

/// The SVG rasterised at `scale` device pixels per SVG pixel, on white.
pub fn png(svg: &str, scale: f32) -> Result<Vec<u8>, String> {
    let tree = tree(svg)?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(scale)
        .ok_or("the scaled size is empty")?;
    let mut pixmap =
        tiny_skia::Pixmap::new(size.width(), size.height()).ok_or("the scaled size is empty")?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| e.to_string())
}

/// The SVG as a one-page PDF with vector paths and the font embedded (subset).
pub fn pdf(svg: &str) -> Result<Vec<u8>, String> {
    let tree = tree(svg)?;
    svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions::default(),
    )
    .map_err(|e| e.to_string())
}

/// The characters of `text` the embedded font has no glyph for (they would come out as
/// empty boxes in PNG and PDF). Whitespace is not checked.
#[cfg(test)]
pub fn missing_glyphs(text: &str) -> Vec<char> {
    let face = ttf_parser::Face::parse(FONT, 0).expect("the embedded font parses");
    let mut missing: Vec<char> = text
        .chars()
        .filter(|c| !c.is_whitespace() && face.glyph_index(*c).is_none())
        .collect();
    missing.dedup();
    missing
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plots::{Figure, Size, render};

    /// The sub- and superscripts the plot labels use are in the embedded font, so PNG and
    /// PDF show them as the SVG does (no tofu boxes).
    #[test]
    fn the_font_has_the_label_math() {
        assert_eq!(
            missing_glyphs("Wᵢⱼ ρᵢⱼ xᵢ(t) xⱼ(t+1) N²C² h₂(σ(−q)) ₀₁₂₃ₜ₊ λ ± → …"),
            Vec::<char>::new()
        );
        assert_eq!(
            missing_glyphs("\u{E000}"),
            ['\u{E000}'],
            "a private-use code point has none"
        );
    }

    fn svg() -> String {
        render(
            &Figure::Empty {
                title: "A title".into(),
                message: "no data yet".into(),
            },
            Size::DEFAULT,
        )
        .unwrap()
    }

    #[test]
    fn png_has_its_magic_bytes_scaled_size_and_text_pixels() {
        let bytes = png(&svg(), 2.0).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        // IHDR: width and height, big-endian, at bytes 16..24.
        let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
        assert_eq!((width, height), (1200, 800));
        // The same SVG always gives the same bytes (no system fonts, no clock).
        assert_eq!(bytes, png(&svg(), 2.0).unwrap());
        // Text was drawn: a blank white image compresses far smaller.
        let blank = png(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="600" height="400"/>"#,
            2.0,
        )
        .unwrap();
        assert!(
            bytes.len() > blank.len() + 500,
            "{} vs {}",
            bytes.len(),
            blank.len()
        );
    }

    #[test]
    fn pdf_is_a_pdf_with_the_font_embedded() {
        let bytes = pdf(&svg()).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.windows(5).rev().take(64).any(|w| w == b"%%EOF"));
        assert!(
            bytes.windows(10).any(|w| w == b"DejaVuSans"),
            "the embedded font is named in the PDF"
        );
    }
}
