//! The yearly report served at `/reports/{year}/…` and written by `khcn-hub report`,
//! read back by real readers: python-docx for the DOCX, poppler for the PDF.

use std::path::Path;

use serde_json::Value;

use crate::fixtures;
use crate::report_render::{docx_text, out_dir, python_docx, run, skip, stdout, words};

const TITLE: &str = "Kết quả thực hiện Kế hoạch số 136/KH-UBND năm 2024";

async fn get(app: &crate::helpers::TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// The PDF's text, or `None` (after saying why) when poppler is missing.
fn pdf_text(bytes: &[u8], name: &str) -> Option<String> {
    let path = out_dir().join(name);
    std::fs::write(&path, bytes).unwrap();
    let Some(output) = run(
        Path::new("pdftotext"),
        &["-enc", "UTF-8", path.to_str().unwrap(), "-"],
    ) else {
        skip("pdftotext is not installed (Debian's poppler-utils)");
        return None;
    };
    Some(words(&stdout(&output, "pdftotext")))
}

/// What python-docx reads, or `None` (after saying why) when it is missing.
fn docx_read(bytes: &[u8], name: &str) -> Option<Value> {
    let Some(python) = python_docx() else {
        skip("python-docx is not installed (tools/report-check/install)");
        return None;
    };
    let path = out_dir().join(name);
    std::fs::write(&path, bytes).unwrap();
    Some(docx_text(&python, &path))
}

backend_test! {
    async fn the_yearly_report_is_a_word_and_a_pdf_document_from_the_data(app) {
        fixtures::load(&app.db).await;
        let admin = app.token("admin", None).await;

        let response = get(&app, "/reports/2024/plan.docx", Some(&admin)).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
        let docx = response.bytes().await.unwrap();
        // The same data give the same document.
        let again = get(&app, "/reports/2024/plan.docx", Some(&admin)).await.bytes().await.unwrap();
        assert_eq!(docx, again);
        if let Some(read) = docx_read(&docx, &format!("plan-2024-{}.docx", format!("{:?}", app.backend).to_lowercase())) {
            let paragraphs: Vec<&str> = read["paragraphs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect();
            assert_eq!(paragraphs[..2], ["BÁO CÁO", TITLE]);
            assert!(paragraphs.contains(&"2. Kết quả thực hiện các chỉ tiêu chủ yếu"), "{paragraphs:?}");
            // Granted and only filed abroad, apart; assessments by industry.
            for line in [
                "Sản phẩm đã được cấp văn bằng bảo hộ ở nước ngoài: 1 (1 hồ sơ; tính vào chỉ tiêu)",
                "Sản phẩm đã nộp đơn ở nước ngoài, chưa được cấp: 1 (1 hồ sơ; chưa tính vào chỉ tiêu)",
                "Chưa rõ ngành: 1 doanh nghiệp (1 lượt đánh giá)",
            ] {
                assert!(paragraphs.iter().any(|p| p.ends_with(line)), "{line} missing from {paragraphs:?}");
            }
            let tables = read["tables"].as_array().unwrap();
            assert!(
                tables[0][0][1].as_str().unwrap().starts_with("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"),
                "{}", tables[0]
            );
            assert_eq!(tables[0][1][0], "Số:        /BC-SKHCN");
            // The five targets, in the plan's order, with the API's own figures.
            let targets = app
                .query("{ plan(code: \"136/KH-UBND\") { targets { description actualValue } } }")
                .await;
            let targets = targets["plan"]["targets"].as_array().unwrap();
            let table = tables
                .iter()
                .find(|t| t[0][0] == "Chỉ tiêu")
                .expect("the targets table");
            assert_eq!(table.as_array().unwrap().len(), 1 + targets.len());
            for (row, target) in table.as_array().unwrap()[1..].iter().zip(targets) {
                assert_eq!(row[0], target["description"]);
                assert_eq!(row[2], target["actualValue"].to_string());
            }
        }

        let response = get(&app, "/reports/2024/plan.pdf", Some(&admin)).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/pdf");
        let pdf = response.bytes().await.unwrap();
        if let Some(text) = pdf_text(&pdf, &format!("plan-2024-{}.pdf", format!("{:?}", app.backend).to_lowercase())) {
            assert!(text.contains(&words(TITLE)), "{text}");
            assert!(text.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), "{text}");
            // Submitted reports, and who owes one and has not sent it.
            assert!(text.contains("Sở Khoa học và Công nghệ: nộp ngày 14/12/2024"), "{text}");
            assert!(text.contains("III. CƠ QUAN, ĐƠN VỊ CHƯA NỘP BÁO CÁO"), "{text}");
        }
    }
}

backend_test! {
    async fn an_agency_reads_its_own_report_and_no_other(app) {
        fixtures::load(&app.db).await;
        let agency = app.token("agency", Some("so-khcn")).await;
        let analyst = app.token("analyst", None).await;

        let own = get(&app, "/reports/2024/so-khcn.pdf", Some(&agency)).await;
        assert_eq!(own.status(), 200);
        if let Some(text) = pdf_text(&own.bytes().await.unwrap(), &format!("so-khcn-2024-{}.pdf", format!("{:?}", app.backend).to_lowercase())) {
            assert!(text.contains("SỞ KHOA HỌC VÀ CÔNG NGHỆ"), "{text}");
            assert!(text.contains("(Chủ trì)"), "{text}");
        }
        for path in ["/reports/2024/so-cong-thuong.docx", "/reports/2024/plan.docx"] {
            let response = get(&app, path, Some(&agency)).await;
            assert_eq!(response.status(), 403, "{path}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(crate::helpers::error_code(&body), "FORBIDDEN", "{body}");
        }
        assert_eq!(get(&app, "/reports/2024/so-cong-thuong.docx", Some(&analyst)).await.status(), 200);
        assert_eq!(get(&app, "/reports/2024/plan.docx", None).await.status(), 401);
        assert_eq!(get(&app, "/reports/2024/no-such-agency.docx", Some(&analyst)).await.status(), 404);
        assert_eq!(get(&app, "/reports/2024/plan.odt", Some(&analyst)).await.status(), 404);
    }
}

backend_test! {
    async fn the_report_names_who_owes_and_who_ceased_before_the_deadline(app) {
        let admin = app.token("admin", None).await;
        let response = get(&app, "/reports/2025/plan.docx", Some(&admin)).await;
        assert_eq!(response.status(), 200);
        let docx = response.bytes().await.unwrap();
        let Some(read) = docx_read(&docx, &format!("plan-2025-{}.docx", format!("{:?}", app.backend).to_lowercase())) else {
            return;
        };
        let paragraphs: Vec<&str> = read["paragraphs"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
        let start = paragraphs.iter().position(|p| p.starts_with("III. CƠ QUAN, ĐƠN VỊ CHƯA NỘP BÁO CÁO")).expect("the owing section");
        let ceased = paragraphs.iter().position(|p| p.starts_with("Cơ quan đã chấm dứt hoạt động")).expect("the ceased list");
        let owing = paragraphs[start + 1..ceased].join("\n");
        assert!(owing.contains("Sở Nông nghiệp và Môi trường"), "{owing}");
        assert!(owing.contains("Sở Tài chính"), "{owing}");
        assert!(!owing.contains("UBND huyện") && !owing.contains("Hội Nông dân"), "{owing}");
        let after = paragraphs[ceased..].join("\n");
        assert!(after.contains("UBND huyện Lai Vung (đến ngày 30/6/2025)"), "{after}");
        assert!(
            after.contains("Sở Nông nghiệp và Phát triển nông thôn (đến ngày 28/2/2025); chuyển giao cho Sở Nông nghiệp và Môi trường"),
            "{after}"
        );
    }
}

backend_test! {
    async fn a_year_without_data_is_still_a_complete_document(app) {
        let admin = app.token("admin", None).await;
        let response = get(&app, "/reports/2030/plan.pdf", Some(&admin)).await;
        assert_eq!(response.status(), 200);
        if let Some(text) = pdf_text(&response.bytes().await.unwrap(), &format!("plan-2030-{}.pdf", format!("{:?}", app.backend).to_lowercase())) {
            assert!(text.contains("Kết quả thực hiện Kế hoạch số 136/KH-UBND năm 2030"), "{text}");
            assert!(text.contains("II. BÁO CÁO CỦA CÁC CƠ QUAN, ĐƠN VỊ NĂM 2030 Chưa có số liệu."), "{text}");
            assert!(text.contains("5. Doanh nghiệp khởi nghiệp đổi mới sáng tạo được hỗ trợ năm 2030 Chưa có số liệu."), "{text}");
        }
    }
}
