use serde_json::json;

use super::*;

/// Every text of a document, in reading order, to search in.
fn text_of(document: &Document) -> String {
    let mut out = vec![document.title.one_line()];
    for block in &document.body {
        match block {
            Block::Heading { text, .. } | Block::Quote(text) | Block::NoData(text) => {
                out.push(text.clone());
            }
            Block::Paragraph(spans) | Block::Item { text: spans, .. } => {
                out.push(spans.iter().map(|s| s.text.as_str()).collect());
            }
            Block::Table(table) => {
                out.extend(table.columns.iter().map(|c| c.title.clone()));
                for row in table.rows.iter().chain(table.total.iter()) {
                    out.push(row.join(" | "));
                }
            }
        }
    }
    out.join("\n")
}

fn answer() -> ReportData {
    serde_json::from_value(json!({
        "scopeAgency": null,
        "plan": {
            "code": "136/KH-UBND",
            "title": "Phát triển khoa học, công nghệ",
            "issuedOn": "2022-04-21",
            "issuer": "Ủy ban nhân dân tỉnh Đồng Tháp",
            "sections": [{
                "numeral": "II",
                "title": "Nâng cao tiềm lực",
                "tasks": [{
                    "code": "II.3", "text": "Đăng ký bảo hộ", "leadText": null,
                    "coordinatorsText": "Sở Nông nghiệp", "status": "IN_PROGRESS",
                    "progressNote": "Đã nộp đơn", "progressEvidence": ["https://example.org/a"],
                    "leadAgency": { "code": "so-khcn", "name": "Sở Khoa học và Công nghệ" },
                    "coordinators": [{ "code": "so-nnptnt" }, {}],
                    "linkedRecordCounts": [{ "kind": "OCOP_PRODUCT", "count": 12 }]
                }, {
                    "code": "II.4", "text": "Hỗ trợ khởi nghiệp", "leadText": null,
                    "coordinatorsText": null, "status": null, "progressNote": null,
                    "progressEvidence": [], "leadAgency": { "code": "so-tc", "name": "Sở Tài chính" },
                    "coordinators": [], "linkedRecordCounts": []
                }]
            }],
            "targets": [{
                "key": "STARTUPS", "description": "Hỗ trợ doanh nghiệp khởi nghiệp",
                "targetValue": 20, "unit": "doanh nghiệp", "actualValue": 3, "progress": 0.15,
                "onTrack": false,
                "contributingRecords": [{ "title": "Sen Việt" }]
            }]
        },
        "ocop": [
            { "keys": [{ "value": "lai-vung", "label": "Lai Vung" }, { "value": "4", "label": null }], "count": 2 },
            { "keys": [{ "value": "lai-vung", "label": "Lai Vung" }, { "value": "3", "label": null }], "count": 5 },
            { "keys": [{ "value": null, "label": null }, { "value": "5", "label": null }], "count": 1 }
        ],
        "ipRights": { "nodes": [{
            "name": "Cao Lãnh", "kind": "GEOGRAPHICAL_INDICATION", "product": "xoài",
            "jurisdiction": "JP", "number": null, "status": "FILED",
            "filedOn": "2023-02-01", "registeredOn": null
        }] },
        "startups": { "pageInfo": { "hasNextPage": false, "endCursor": null }, "nodes": [
            { "name": "Sen Việt", "district": "Cao Lãnh", "supportEvents": [
                { "year": 2024, "kind": "Ươm tạo", "amountVnd": "1500000" },
                { "year": 2023, "kind": "Tư vấn", "amountVnd": 9 }
            ] }
        ] },
        "traceabilityByYear": [
            { "keys": [{ "value": "2024" }], "count": 7 },
            { "keys": [{ "value": "2023" }], "count": 3 }
        ],
        "traceabilityByGtin": [{ "keys": [{ "value": "08930000000017" }], "count": 10 }],
        "traceabilityByArea": [{ "keys": [{ "value": null }], "count": 10 }],
        "annualReports": { "nodes": [{
            "agency": { "code": "so-khcn", "name": "Sở Khoa học và Công nghệ" },
            "submittedOn": "2024-12-10", "onTime": true, "summary": "Hoàn thành “đúng” hạn.\nTrân trọng."
        }] },
        "overdueReports": [{ "code": "so-tc", "name": "Sở Tài chính" }]
    }))
    .unwrap()
}

#[test]
fn the_consolidated_report_shows_every_part_from_the_data() {
    let document = build(&answer(), 2024, &Scope::Plan);
    let text = text_of(&document);
    assert_eq!(
        document.title.one_line(),
        "BÁO CÁO Kết quả thực hiện Kế hoạch số 136/KH-UBND năm 2024"
    );
    assert_eq!(document.header.number, "Số:        /BC-SKHCN");
    for expected in [
        "Thực hiện Kế hoạch số 136/KH-UBND ngày 21/4/2022 của Ủy ban nhân dân tỉnh Đồng Tháp về phát triển khoa học, công nghệ",
        "II.3 Đăng ký bảo hộ",
        "Tình trạng: Đang thực hiện",
        "Kết quả: Đã nộp đơn",
        "Minh chứng: https://example.org/a",
        "Sản phẩm OCOP: 12",
        // II.4 has no progress: the report says so.
        "Kết quả: Chưa có số liệu.",
        "Hỗ trợ doanh nghiệp khởi nghiệp | 20 doanh nghiệp | 3 | 15% | Chậm tiến độ | Sen Việt; …",
        "Lai Vung | 5 | 2 | 0 | 7",
        "Chưa rõ huyện | 0 | 0 | 1 | 1",
        "Tổng cộng | 5 | 2 | 1 | 8",
        "Nơi bảo hộ: Nhật Bản (JP)",
        "Cao Lãnh: chỉ dẫn địa lý; sản phẩm: xoài; tình trạng: đã nộp đơn; nộp đơn: 1/2/2023",
        "Sen Việt | Cao Lãnh | Ươm tạo | 1.500.000",
        "Sự kiện truy xuất đã ghi nhận | 10",
        "Trong đó, năm 2024 | 7",
        "Sản phẩm (mã GTIN) được truy xuất | 1",
        "Mã số vùng trồng được truy xuất | 0",
        "Sở Khoa học và Công nghệ: nộp ngày 10/12/2024",
        "Hoàn thành “đúng” hạn.\nTrân trọng.",
        "III. CƠ QUAN, ĐƠN VỊ CHƯA NỘP BÁO CÁO\nSở Tài chính",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    // The 2023 support event belongs to another year's report.
    assert!(!text.contains("Tư vấn"), "{text}");
    // A renderer accepts it.
    assert!(document.prepared().is_ok());
}

#[test]
fn an_agency_report_keeps_its_own_tasks_and_reports() {
    let agency = AgencyRef {
        code: "so-nnptnt".into(),
        name: "Sở Nông nghiệp".into(),
    };
    let document = build(&answer(), 2024, &Scope::Agency(agency));
    let text = text_of(&document);
    assert!(text.contains("II.3 Đăng ký bảo hộ (Phối hợp)"), "{text}");
    assert!(!text.contains("II.4"), "{text}");
    // Its report was not submitted, and it is not among the owing either.
    assert!(
        text.contains("II. BÁO CÁO CỦA CÁC CƠ QUAN, ĐƠN VỊ NĂM 2024\nChưa có số liệu."),
        "{text}"
    );
    assert!(text.contains("CHƯA NỘP BÁO CÁO\nKhông có."), "{text}");
    assert_eq!(document.header.issuing_body, "SỞ NÔNG NGHIỆP");
}

#[test]
fn a_year_without_data_is_a_complete_document_that_says_what_is_missing() {
    let empty = ReportData::default();
    let document = build(&empty, 2030, &Scope::Plan);
    let text = text_of(&document);
    let headings = document
        .body
        .iter()
        .filter(|b| matches!(b, Block::Heading { .. }))
        .count();
    assert_eq!(headings, 9, "{text}");
    let missing = document
        .body
        .iter()
        .filter(|b| matches!(b, Block::NoData(_)))
        .count();
    assert_eq!(missing, 7, "{text}");
    assert!(document.prepared().is_ok());
}

#[test]
fn amounts_are_grouped_the_vietnamese_way() {
    assert_eq!(group_thousands(0), "0");
    assert_eq!(group_thousands(999), "999");
    assert_eq!(group_thousands(1_000), "1.000");
    assert_eq!(group_thousands(1_500_000), "1.500.000");
    assert_eq!(group_thousands(-12_345), "-12.345");
}
