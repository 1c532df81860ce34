//! A sample report with every kind of block, in Vietnamese: to preview the layout and
//! to test the renderers. Its figures are made up.

use super::document::{
    Align, Block, Closing, Column, Document, Header, HeadingLevel, Marker, Signature, Span, Table,
    Title,
};

/// The quoted agency text of the sample, with its line break.
pub const QUOTE: &str = "“Đề nghị tiếp tục hỗ trợ các hợp tác xã ứng dụng quy trình sản xuất xoài \
theo tiêu chuẩn VietGAP, GlobalGAP, gắn với mã số vùng trồng phục vụ xuất khẩu sang thị \
trường Nhật Bản, Hàn Quốc; ưu tiên kinh phí cho Dự án quản lý và phát triển chỉ dẫn địa \
lý “Cao Lãnh”.\nTrân trọng đề nghị Sở Khoa học và Công nghệ tổng hợp.”";

/// The tasks the sample table cycles through.
const TASKS: [(&str, &str, &str); 8] = [
    (
        "Dự án đăng ký bảo hộ chỉ dẫn địa lý Cao Lãnh cho sản phẩm xoài tại Nhật Bản",
        "Sở Khoa học và Công nghệ",
        "Đã nộp hồ sơ; Cơ quan Sáng chế Nhật Bản đang thẩm định hình thức.",
    ),
    (
        "Nghiên cứu xây dựng mô hình Làng thông minh phát triển từ Hội quán nông dân tại Đồng Tháp",
        "Sở Nông nghiệp và Phát triển nông thôn",
        "Hoàn thành 03 mô hình thí điểm; đang tổng kết, đánh giá.",
    ),
    (
        "Hỗ trợ doanh nghiệp khởi nghiệp đổi mới sáng tạo",
        "Sở Kế hoạch và Đầu tư",
        "chưa có số liệu",
    ),
    (
        "Xây dựng cơ sở dữ liệu đất đai phục vụ tái cơ cấu nông nghiệp",
        "Sở Tài nguyên và Môi trường",
        "Đạt 85% khối lượng; dự kiến nghiệm thu quý II năm 2025.",
    ),
    (
        "Ứng dụng công nghệ cao trong nuôi cá tra thâm canh, xử lý ô nhiễm môi trường ao nuôi",
        "Sở Nông nghiệp và Phát triển nông thôn",
        "Chuyển giao quy trình cho 12 hộ nuôi; giảm 20% chi phí xử lý nước.",
    ),
    (
        "Đánh giá trình độ, năng lực công nghệ sản xuất của doanh nghiệp",
        "Sở Khoa học và Công nghệ",
        "chưa có số liệu",
    ),
    (
        "Truy xuất nguồn gốc sản phẩm OCOP chủ lực của Tỉnh",
        "Sở Công Thương",
        "Cấp mã truy xuất cho 146 sản phẩm; kết nối Cổng truy xuất quốc gia.",
    ),
    (
        "Bảo hộ nhãn hiệu chứng nhận “Sen Đồng Tháp”, “Quýt hồng Lai Vung”",
        "UBND huyện, thành phố",
        "Được cấp văn bằng; tổ chức quản lý, sử dụng nhãn hiệu theo quy chế.",
    ),
];

/// Rows in the sample table: enough for it to run over a page break.
pub const TABLE_ROWS: usize = 30;

/// The sample report for `year`.
pub fn document(year: i32) -> Document {
    let mut body = introduction(year);
    body.extend(results(year));
    body.extend(closing_sections(year));
    Document {
        header: Header::new(
            "UBND tỉnh Đồng Tháp",
            "Sở Khoa học và Công nghệ",
            "Số:        /BC-SKHCN",
            format!("Đồng Tháp, ngày      tháng      năm {}", year + 1),
        ),
        title: Title::report(format!(
            "Kết quả thực hiện Kế hoạch số 136/KH-UBND năm {year}"
        )),
        body,
        closing: Closing {
            recipients: vec![
                "UBND Tỉnh (b/c);".into(),
                "Bộ Khoa học và Công nghệ (b/c);".into(),
                "Các sở, ban, ngành Tỉnh;".into(),
                "Giám đốc, các PGĐ Sở;".into(),
                "Lưu: VT, QLKH.".into(),
            ],
            signature: Signature {
                title_lines: vec!["KT. GIÁM ĐỐC".into(), "PHÓ GIÁM ĐỐC".into()],
                signer: None,
            },
        },
    }
}

fn introduction(year: i32) -> Vec<Block> {
    vec![
        Block::paragraph(format!(
            "Thực hiện Kế hoạch số 136/KH-UBND ngày 21 tháng 4 năm 2022 của Ủy ban nhân dân \
             Tỉnh về phát triển khoa học, công nghệ và đổi mới sáng tạo tỉnh Đồng Tháp đến \
             năm 2025, Sở Khoa học và Công nghệ báo cáo kết quả thực hiện năm {year} như sau:"
        )),
        Block::heading(HeadingLevel::One, "I. KẾT QUẢ THỰC HIỆN"),
        Block::heading(HeadingLevel::Two, "1. Công tác chỉ đạo, điều hành"),
        Block::Paragraph(vec![
            Span::bold("Về ban hành văn bản: "),
            Span::plain(
                "Sở đã tham mưu Ủy ban nhân dân Tỉnh ban hành các văn bản hướng dẫn triển \
                 khai nhiệm vụ khoa học và công nghệ; phối hợp với các sở, ngành, địa phương \
                 tổ chức thực hiện đúng tiến độ, bảo đảm chất lượng và hiệu quả.",
            ),
        ]),
        Block::dash(
            "Tổ chức 04 hội nghị phổ biến quy trình đăng ký, tuyển chọn nhiệm vụ khoa học \
             và công nghệ cấp tỉnh;",
        ),
        Block::dash("Hỗ trợ 12 doanh nghiệp khởi nghiệp đổi mới sáng tạo tiếp cận quỹ đầu tư;"),
        Block::Item {
            marker: Marker::Plus,
            text: vec![Span::plain(
                "Trong đó, 05 doanh nghiệp thuộc lĩnh vực nông nghiệp ứng dụng công nghệ cao.",
            )],
        },
    ]
}

fn results(year: i32) -> Vec<Block> {
    vec![
        Block::heading(HeadingLevel::Two, "2. Kết quả thực hiện các nhiệm vụ"),
        Block::paragraph(format!(
            "Kết quả thực hiện các nhiệm vụ của Kế hoạch trong năm {year} được tổng hợp tại \
             bảng sau:"
        )),
        Block::Table(task_table(year)),
        Block::heading(HeadingLevel::Three, "a) Ý kiến của cơ quan phối hợp"),
        Block::paragraph("Sở Nông nghiệp và Phát triển nông thôn có ý kiến như sau:"),
        Block::quote(QUOTE),
        Block::heading(
            HeadingLevel::Two,
            "3. Đánh giá trình độ công nghệ của doanh nghiệp",
        ),
        Block::no_data(),
    ]
}

fn task_table(year: i32) -> Table {
    let rows = (0..TABLE_ROWS)
        .map(|i| {
            let (task, lead, result) = TASKS[i % TASKS.len()];
            vec![
                (i + 1).to_string(),
                task.to_owned(),
                lead.to_owned(),
                result.to_owned(),
            ]
        })
        .collect();
    Table {
        columns: vec![
            Column::new("STT", 8, Align::Center),
            Column::new("Nhiệm vụ", 40, Align::Left),
            Column::new("Cơ quan chủ trì", 22, Align::Left),
            Column::new(format!("Kết quả năm {year}"), 30, Align::Left),
        ],
        rows,
        total: Some(vec![
            String::new(),
            "Tổng cộng".into(),
            String::new(),
            format!("{TABLE_ROWS} nhiệm vụ"),
        ]),
    }
}

fn closing_sections(year: i32) -> Vec<Block> {
    vec![
        Block::heading(HeadingLevel::One, "II. KHÓ KHĂN, VƯỚNG MẮC"),
        Block::paragraph(
            "Nguồn lực đầu tư cho khoa học và công nghệ còn hạn chế; một số doanh nghiệp \
             chưa chủ động đổi mới công nghệ, chưa quan tâm đăng ký bảo hộ quyền sở hữu trí \
             tuệ; số liệu của một số ngành chưa được cập nhật kịp thời.",
        ),
        Block::heading(
            HeadingLevel::One,
            format!("III. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM {}", year + 1),
        ),
        Block::dash(
            "Tiếp tục triển khai các nhiệm vụ còn lại của Kế hoạch; tổng kết giai đoạn \
             2022 - 2025;",
        ),
        Block::dash(
            "Đẩy mạnh ứng dụng, chuyển giao tiến bộ khoa học kỹ thuật vào sản xuất và đời sống.",
        ),
        Block::paragraph(format!(
            "Trên đây là báo cáo kết quả thực hiện Kế hoạch số 136/KH-UBND năm {year} của Sở \
             Khoa học và Công nghệ./."
        )),
    ]
}
