"""The demo's names and free texts in every offered language but Japanese (decision 0029).

A municipality enters these in the admin, one input per language; the demo fills the same
`translations` JSON, so its residents' pages in English, Chinese, Korean, Vietnamese, Portuguese
and easy Japanese name its municipalities, sites, procedures, counters and closures in that
language. Keyed by the Japanese value the demo stores in the model's own field.
`tests/demo/test_demo_names.py` fails when a demo text or an offered language has no entry.
"""

from __future__ import annotations

LANGUAGES = ("ja-x-easy", "en", "zh-hans", "ko", "vi", "pt-br")
"""The demo's translated languages, in `settings.LANGUAGES` order (Japanese is the field)."""

TEXTS: dict[str, tuple[str, str, str, str, str, str]] = {
    # -- municipalities ------------------------------------------------------------------------
    "デモ市（架空）": (
        "デモし（ほんとうには ない まち）",
        "Demo City (fictitious)",
        "演示市（虚构）",
        "데모시(가상)",
        "Thành phố Demo (hư cấu)",
        "Cidade Demo (fictícia)",
    ),
    "見本町（架空）": (
        "みほんちょう（ほんとうには ない まち）",
        "Mihon Town (fictitious)",
        "见本町（虚构）",
        "미혼초(가상)",
        "Thị trấn Mihon (hư cấu)",
        "Cidade de Mihon (fictícia)",
    ),
    # -- procedures ----------------------------------------------------------------------------
    "マイナンバーカードの受け取り": (
        "マイナンバーカードを うけとる",
        "Card pick-up",
        "领取个人编号卡",
        "마이넘버카드 수령",
        "Nhận thẻ My Number",
        "Retirada do My Number Card",
    ),
    "交付通知書、本人確認書類（写真付き1点、または写真なし2点）、"
    "今お持ちのマイナンバーカード（住民基本台帳カード・通知カード）": (
        "こうふつうちしょ（交付通知書）、みぶんしょうめいしょ（しゃしんつき 1つ、"
        "または しゃしんなし 2つ）、いま もっている カード（マイナンバーカード・"
        "じゅうみんきほんだいちょうカード・つうちカード）",
        "The issuance notice, identification (one with a photo, or two without), and the card "
        "you have now (My Number Card, Basic Resident Register card or notification card)",
        "交付通知书、身份证明文件（带照片的1件，或不带照片的2件）、您现在持有的卡（个人编号卡、"
        "居民基本台账卡或通知卡）",
        "교부통지서, 본인 확인 서류(사진이 있는 것 1점 또는 사진이 없는 것 2점), 현재 가지고 계신 "
        "카드(마이넘버카드, 주민기본대장카드 또는 통지카드)",
        "Giấy thông báo cấp thẻ, giấy tờ tùy thân (1 loại có ảnh, hoặc 2 loại không có ảnh), "
        "thẻ bạn đang có (thẻ My Number, thẻ Đăng ký Cư trú Cơ bản hoặc thẻ thông báo)",
        "O aviso de emissão, documento de identidade (um com foto, ou dois sem foto) e o cartão "
        "que você tem hoje (My Number Card, cartão do Registro Básico de Residentes ou cartão "
        "de notificação)",
    ),
    "委任欄に記入した交付通知書、代理の理由を証明する書類、"
    "ご本人の本人確認書類、代理人の本人確認書類、今お持ちのカード": (
        "いにんの らんを かいた こうふつうちしょ（交付通知書）、だいりの りゆうが わかる しょるい、"
        "ほんにんの みぶんしょうめいしょ、だいりにんの みぶんしょうめいしょ、"
        "いま もっている カード",
        "The issuance notice with the proxy section filled in, a document proving the reason "
        "for the proxy, the holder's identification, the proxy's identification, and the card "
        "the holder has now",
        "已填写委托栏的交付通知书、证明代理理由的文件、本人的身份证明文件、代理人的身份证明文件、"
        "本人现在持有的卡",
        "위임란을 기입한 교부통지서, 대리 사유를 증명하는 서류, 본인의 본인 확인 서류, 대리인의 "
        "본인 확인 서류, 본인이 현재 가지고 있는 카드",
        "Giấy thông báo cấp thẻ đã điền phần ủy quyền, giấy tờ chứng minh lý do nhờ người đại "
        "diện, giấy tờ tùy thân của chủ thẻ, giấy tờ tùy thân của người đại diện, thẻ chủ thẻ "
        "đang có",
        "O aviso de emissão com a parte de procuração preenchida, um documento que comprove o "
        "motivo da representação, o documento de identidade do titular, o do representante e o "
        "cartão que o titular tem hoje",
    ),
    "電子証明書の更新": (
        "でんししょうめいしょの こうしん",
        "E-certificate renewal",
        "电子证明书更新",
        "전자증명서 갱신",
        "Gia hạn chứng thư điện tử",
        "Renovação do certificado eletrônico",
    ),
    "マイナンバーカード、暗証番号（署名用・利用者証明用）": (
        "マイナンバーカード、あんしょうばんごう（しょめいよう・りようしゃしょうめいよう）",
        "Your My Number Card and its PINs (for signatures and for user authentication)",
        "个人编号卡、密码（签名用和用户认证用）",
        "마이넘버카드, 비밀번호(서명용·이용자 증명용)",
        "Thẻ My Number và mã PIN (dùng để ký và dùng để xác thực người dùng)",
        "Seu My Number Card e as senhas (de assinatura e de autenticação do usuário)",
    ),
    "ご本人のマイナンバーカード、J-LISから届いた照会書（封をしたもの）、"
    "代理人の本人確認書類。照会書がない場合は2回の来庁が必要です。": (
        "ほんにんの マイナンバーカード、J-LISから とどいた しょうかいしょ（ふうを した まま）、"
        "だいりにんの みぶんしょうめいしょ。"
        "しょうかいしょが ないときは 2かい くる ことに なります。",
        "The holder's My Number Card, the inquiry letter from J-LIS (still sealed) and the "
        "proxy's identification. Without the inquiry letter, two visits are needed.",
        "本人的个人编号卡、J-LIS寄来的照会书（保持密封）、代理人的身份证明文件。没有照会书时需要来两次。",
        "본인의 마이넘버카드, J-LIS에서 온 조회서(봉인된 상태), 대리인의 본인 확인 서류. 조회서가 "
        "없으면 두 번 방문해야 합니다.",
        "Thẻ My Number của chủ thẻ, thư xác nhận từ J-LIS (còn niêm phong) và giấy tờ tùy thân "
        "của người đại diện. Nếu không có thư xác nhận, cần đến hai lần.",
        "O My Number Card do titular, a carta de consulta da J-LIS (ainda lacrada) e o documento "
        "de identidade do representante. Sem a carta de consulta, são necessárias duas visitas.",
    ),
    "マイナンバーカードの申請（窓口で申請）": (
        "マイナンバーカードの もうしこみ（まどぐちで もうしこむ）",
        "Card application at the counter",
        "申请个人编号卡（在窗口申请）",
        "마이넘버카드 신청(창구 신청)",
        "Đăng ký thẻ My Number (tại quầy)",
        "Pedido do My Number Card (no balcão)",
    ),
    "本人確認書類、今お持ちのカード、顔写真（窓口で撮影することもできます）": (
        "みぶんしょうめいしょ、いま もっている カード、かおの しゃしん（まどぐちで とる ことも "
        "できます）",
        "Identification, the card you have now, and a photo of your face (it can also be taken "
        "at the counter)",
        "身份证明文件、您现在持有的卡、面部照片（也可以在窗口拍摄）",
        "본인 확인 서류, 현재 가지고 계신 카드, 얼굴 사진(창구에서 촬영할 수도 있습니다)",
        "Giấy tờ tùy thân, thẻ bạn đang có và ảnh chân dung (cũng có thể chụp tại quầy)",
        "Documento de identidade, o cartão que você tem hoje e uma foto do rosto (também pode "
        "ser tirada no balcão)",
    ),
    "暗証番号の再設定": (
        "あんしょうばんごうを せっていしなおす",
        "PIN reset",
        "重新设定密码",
        "비밀번호 재설정",
        "Đặt lại mã PIN",
        "Redefinição da senha (PIN)",
    ),
    "マイナンバーカード、本人確認書類": (
        "マイナンバーカード、みぶんしょうめいしょ",
        "Your My Number Card and identification",
        "个人编号卡、身份证明文件",
        "마이넘버카드, 본인 확인 서류",
        "Thẻ My Number và giấy tờ tùy thân",
        "Seu My Number Card e documento de identidade",
    ),
    # -- デモ市's sites ------------------------------------------------------------------------
    "デモ市役所 本庁舎": (
        "デモしやくしょ ほんちょうしゃ",
        "Demo City Hall, Main Building",
        "演示市政府 本厅舍",
        "데모시청 본청사",
        "Tòa thị chính Demo – tòa nhà chính",
        "Prefeitura de Demo – prédio principal",
    ),
    "デモ市中央一丁目1番1号 本庁舎1階 市民課": (
        "デモし ちゅうおう 1ちょうめ 1ばん 1ごう ほんちょうしゃ 1かい しみんか",
        "1-1-1 Chuo, Demo City — Main Building 1F, Citizens Division",
        "演示市中央一丁目1番1号 本厅舍1楼 市民课",
        "데모시 주오 1초메 1-1 본청사 1층 시민과",
        "1-1-1 Chuo, thành phố Demo — tòa nhà chính tầng 1, Phòng Công dân",
        "Chuo 1-1-1, Cidade Demo — prédio principal, 1º andar, Divisão de Cidadãos",
    ),
    "デモ駅北口から徒歩8分。駐車場あり（2時間無料）。": (
        "デモえきの きたぐちから あるいて 8ふん。"
        "くるまを とめる ところが あります（2じかん ただ）。",
        "8 minutes' walk from the north exit of Demo Station. Parking (2 hours free).",
        "从演示站北口步行8分钟。有停车场（2小时免费）。",
        "데모역 북쪽 출구에서 도보 8분. 주차장 있음(2시간 무료).",
        "Đi bộ 8 phút từ cửa bắc ga Demo. Có bãi đỗ xe (miễn phí 2 giờ).",
        "8 minutos a pé da saída norte da Estação Demo. Estacionamento (2 horas grátis).",
    ),
    "デモ市 北支所": (
        "デモし きた ししょ",
        "Demo City North Branch",
        "演示市 北支所",
        "데모시 북지소",
        "Chi nhánh Bắc thành phố Demo",
        "Cidade Demo – filial Norte",
    ),
    "デモ市北町二丁目3番4号": (
        "デモし きたまち 2ちょうめ 3ばん 4ごう",
        "2-3-4 Kitamachi, Demo City",
        "演示市北町二丁目3番4号",
        "데모시 기타마치 2초메 3-4",
        "2-3-4 Kitamachi, thành phố Demo",
        "Kitamachi 2-3-4, Cidade Demo",
    ),
    "北町バス停すぐ。": (
        "きたまち バスていの すぐ ちかく。",
        "Right by the Kitamachi bus stop.",
        "紧邻北町公交车站。",
        "기타마치 버스 정류장 바로 앞.",
        "Ngay cạnh trạm xe buýt Kitamachi.",
        "Ao lado do ponto de ônibus Kitamachi.",
    ),
    "デモ市 南支所": (
        "デモし みなみ ししょ",
        "Demo City South Branch",
        "演示市 南支所",
        "데모시 남지소",
        "Chi nhánh Nam thành phố Demo",
        "Cidade Demo – filial Sul",
    ),
    "デモ市南台五丁目6番7号": (
        "デモし みなみだい 5ちょうめ 6ばん 7ごう",
        "5-6-7 Minamidai, Demo City",
        "演示市南台五丁目6番7号",
        "데모시 미나미다이 5초메 6-7",
        "5-6-7 Minamidai, thành phố Demo",
        "Minamidai 5-6-7, Cidade Demo",
    ),
    "南台駅から徒歩5分。": (
        "みなみだいえきから あるいて 5ふん。",
        "5 minutes' walk from Minamidai Station.",
        "从南台站步行5分钟。",
        "미나미다이역에서 도보 5분.",
        "Đi bộ 5 phút từ ga Minamidai.",
        "5 minutos a pé da Estação Minamidai.",
    ),
    "デモ駅前 臨時窓口": (
        "デモえきまえ りんじの まどぐち",
        "Demo Station temporary counter",
        "演示站前 临时窗口",
        "데모역 앞 임시 창구",
        "Quầy tạm thời trước ga Demo",
        "Balcão temporário da Estação Demo",
    ),
    "デモ市 北町公民館 臨時窓口": (
        "デモし きたまち こうみんかん りんじの まどぐち",
        "Demo City Kitamachi Community Hall temporary counter",
        "演示市 北町公民馆 临时窗口",
        "데모시 기타마치 공민관 임시 창구",
        "Quầy tạm thời tại nhà văn hóa Kitamachi, thành phố Demo",
        "Balcão temporário do Centro Comunitário de Kitamachi, Cidade Demo",
    ),
    "見本町 中央公民館 臨時窓口": (
        "みほんちょう ちゅうおう こうみんかん りんじの まどぐち",
        "Mihon Town Central Community Hall temporary counter",
        "见本町 中央公民馆 临时窗口",
        "미혼초 중앙 공민관 임시 창구",
        "Quầy tạm thời tại nhà văn hóa trung tâm, thị trấn Mihon",
        "Balcão temporário do Centro Comunitário Central, Cidade de Mihon",
    ),
    "デモ市駅前二丁目8番 デモ駅前ビル2階": (
        "デモし えきまえ 2ちょうめ 8ばん デモえきまえビル 2かい",
        "Demo Ekimae Building 2F, 2-8 Ekimae, Demo City",
        "演示市站前二丁目8番 演示站前大楼2楼",
        "데모시 에키마에 2초메 8 데모역앞빌딩 2층",
        "Tầng 2 tòa nhà Demo Ekimae, 2-8 Ekimae, thành phố Demo",
        "Edifício Demo Ekimae, 2º andar, Ekimae 2-8, Cidade Demo",
    ),
    "デモ駅南口直結。平日夜間と土日に開設します。": (
        "デモえきの みなみぐちから そのまま いけます。へいじつの よると どようび・にちようびに "
        "あいています。",
        "Directly connected to the south exit of Demo Station. Open on weekday evenings and at "
        "weekends.",
        "与演示站南口直接相连。平日晚间和周六、周日开放。",
        "데모역 남쪽 출구와 바로 연결. 평일 저녁과 토·일요일에 엽니다.",
        "Nối thẳng với cửa nam ga Demo. Mở vào buổi tối ngày thường và thứ Bảy, Chủ nhật.",
        "Ligado diretamente à saída sul da Estação Demo. Aberto nas noites de dias úteis e nos "
        "fins de semana.",
    ),
    "デモ中央郵便局": (
        "デモ ちゅうおう ゆうびんきょく",
        "Demo Central Post Office",
        "演示中央邮局",
        "데모 중앙우체국",
        "Bưu điện Trung tâm Demo",
        "Agência Central dos Correios de Demo",
    ),
    "デモ市中央三丁目2番1号": (
        "デモし ちゅうおう 3ちょうめ 2ばん 1ごう",
        "3-2-1 Chuo, Demo City",
        "演示市中央三丁目2番1号",
        "데모시 주오 3초메 2-1",
        "3-2-1 Chuo, thành phố Demo",
        "Chuo 3-2-1, Cidade Demo",
    ),
    "郵便窓口の隣の専用カウンターです。カードの受け取りはできません。": (
        "ゆうびんの まどぐちの となりの せんようの カウンターです。"
        "カードは ここでは うけとれません。",
        "A dedicated counter next to the postal counter. Cards cannot be picked up here.",
        "邮政窗口旁的专用柜台。此处不能领取卡。",
        "우편 창구 옆 전용 카운터입니다. 카드 수령은 할 수 없습니다.",
        "Quầy riêng bên cạnh quầy bưu chính. Không nhận thẻ tại đây.",
        "Um balcão exclusivo ao lado do balcão postal. Não é possível retirar o cartão aqui.",
    ),
    # -- 見本町's sites ------------------------------------------------------------------------
    "見本町役場 住民課": (
        "みほんちょう やくば じゅうみんか",
        "Mihon Town Hall, Residents Division",
        "见本町政府 住民课",
        "미혼초 사무소 주민과",
        "Ủy ban thị trấn Mihon – Phòng Cư dân",
        "Prefeitura de Mihon – Divisão de Moradores",
    ),
    "見本町役場通り一丁目1番地 役場1階": (
        "みほんちょう やくばどおり 1ちょうめ 1ばんち やくば 1かい",
        "1-1 Yakuba-dori, Mihon Town — Town Hall 1F",
        "见本町役场通一丁目1番地 町政府1楼",
        "미혼초 야쿠바도리 1초메 1 사무소 1층",
        "1-1 Yakuba-dori, thị trấn Mihon — ủy ban tầng 1",
        "Yakuba-dori 1-1, Cidade de Mihon — prefeitura, 1º andar",
    ),
    "見本駅から町営バス「役場前」下車すぐ。駐車場あり。": (
        "みほんえきから まちの バスに のって「やくばまえ」で おりて すぐ。くるまを とめる ところが "
        "あります。",
        'From Mihon Station, take the town bus to "Yakuba-mae"; it is right there. Parking '
        "available.",
        "从见本站乘町营巴士，在“役场前”下车即到。有停车场。",
        "미혼역에서 마을버스를 타고 '야쿠바마에'에서 내리면 바로 앞. 주차장 있음.",
        'Từ ga Mihon đi xe buýt thị trấn, xuống ở trạm "Yakuba-mae" là tới. Có bãi đỗ xe.',
        'Da Estação Mihon, pegue o ônibus municipal até "Yakuba-mae"; fica logo ali. '
        "Estacionamento disponível.",
    ),
    "見本町 東出張所": (
        "みほんちょう ひがし しゅっちょうじょ",
        "Mihon Town East Office",
        "见本町 东办事处",
        "미혼초 동부 출장소",
        "Văn phòng phía Đông thị trấn Mihon",
        "Posto Leste de Mihon",
    ),
    "見本町東浦三丁目2番": (
        "みほんちょう ひがしうら 3ちょうめ 2ばん",
        "3-2 Higashiura, Mihon Town",
        "见本町东浦三丁目2番",
        "미혼초 히가시우라 3초메 2",
        "3-2 Higashiura, thị trấn Mihon",
        "Higashiura 3-2, Cidade de Mihon",
    ),
    "東浦公民館の中です。": (
        "ひがしうら こうみんかんの なかです。",
        "Inside the Higashiura community centre.",
        "在东浦公民馆内。",
        "히가시우라 공민관 안에 있습니다.",
        "Nằm trong nhà văn hóa Higashiura.",
        "Dentro do centro comunitário de Higashiura.",
    ),
    "見本町 保健センター 臨時窓口": (
        "みほんちょう ほけんセンター りんじ まどぐち",
        "Mihon Town Health Centre, Temporary Counter",
        "见本町 保健中心 临时窗口",
        "미혼초 보건센터 임시 창구",
        "Quầy tạm thời tại Trung tâm Y tế thị trấn Mihon",
        "Balcão temporário do Centro de Saúde de Mihon",
    ),
    "見本町役場通り二丁目5番 保健センター1階": (
        "みほんちょう やくばどおり 2ちょうめ 5ばん ほけんセンター 1かい",
        "2-5 Yakuba-dori, Mihon Town — Health Centre 1F",
        "见本町役场通二丁目5番 保健中心1楼",
        "미혼초 야쿠바도리 2초메 5 보건센터 1층",
        "2-5 Yakuba-dori, thị trấn Mihon — Trung tâm Y tế tầng 1",
        "Yakuba-dori 2-5, Cidade de Mihon — Centro de Saúde, 1º andar",
    ),
    "役場の向かいです。月・水・金の午後と日曜の午前に開設します。": (
        "やくばの むかいがわです。げつようび・すいようび・きんようびの ごごと、"
        "にちようびの ごぜんに あいて います。",
        "Across from the town hall. Open Monday, Wednesday and Friday afternoons and Sunday "
        "mornings.",
        "在町政府对面。周一、周三、周五下午及周日上午开放。",
        "사무소 맞은편입니다. 월·수·금요일 오후와 일요일 오전에 엽니다.",
        "Đối diện ủy ban thị trấn. Mở chiều thứ Hai, thứ Tư, thứ Sáu và sáng Chủ nhật.",
        "Em frente à prefeitura. Aberto às tardes de segunda, quarta e sexta e às manhãs de "
        "domingo.",
    ),
    # -- closures ------------------------------------------------------------------------------
    "デモ市 市民の日": (
        "デモしの しみんの ひ",
        "Demo City Citizens' Day",
        "演示市 市民日",
        "데모시 시민의 날",
        "Ngày Công dân thành phố Demo",
        "Dia do Cidadão da Cidade Demo",
    ),
    "見本町 町民の日": (
        "みほんちょうの ちょうみんの ひ",
        "Mihon Town Day",
        "见本町 町民日",
        "미혼초 주민의 날",
        "Ngày Cư dân thị trấn Mihon",
        "Dia do Morador de Mihon",
    ),
    "J-LISシステム計画停止（デモ）": (
        "J-LISの システムを とめる ひ（デモ）",
        "Planned J-LIS system outage (demo)",
        "J-LIS系统计划停机（演示）",
        "J-LIS 시스템 계획 정지(데모)",
        "Tạm dừng hệ thống J-LIS theo kế hoạch (demo)",
        "Parada programada do sistema J-LIS (demo)",
    ),
}
"""Every Japanese text the demo stores in a translatable field, in `LANGUAGES` order."""

COUNTER = (
    "{n}ばん まどぐち",
    "Counter {n}",
    "{n}号窗口",
    "{n}번 창구",
    "Quầy số {n}",
    "Guichê {n}",
)
"""A counter's name (「{n}番窓口」) in `LANGUAGES` order."""


def translations(**fields: str) -> dict[str, dict[str, str]]:
    """The `translations` JSON of the Japanese `fields` (name=…, address=…); an empty value has
    none. A text missing from `TEXTS` raises KeyError: the demo names nothing in Japanese only."""
    entries: dict[str, dict[str, str]] = {}
    for field, japanese in fields.items():
        if not japanese:
            continue
        for language, text in zip(LANGUAGES, TEXTS[japanese], strict=True):
            entries.setdefault(language, {})[field] = text
    return entries


def counter_translations(number: int) -> dict[str, dict[str, str]]:
    """A counter's `translations` JSON: its name 「{number}番窓口」 in every language."""
    return {
        language: {"name": pattern.format(n=number)}
        for language, pattern in zip(LANGUAGES, COUNTER, strict=True)
    }
