"""Generated web pages with a known main text, for the HTML → text tests and benchmark.

Real crawls have no ground truth, so `make_page` builds one: the article text comes from the
sample's sentence pools (texts/<lang>.txt; Japanese, Russian, Greek and Polish sentences are
written below for this project), and around it goes what real sites put there: cookie banners,
menus, breadcrumbs, share buttons, inline ads, sidebars of related headlines, comment threads,
footers, big inline scripts, styles and icons. Four kinds of page (news, blog, forum thread,
product) are rendered in four markup styles (HTML5 landmarks, WordPress-like divs, hashed CSS
class names, and an old table layout with <br> paragraphs), so no extractor wins by one class
name. Pages are encoded in the charsets sites of that language use, and the HTTP header and
<meta> charsets sometimes lie, the way misconfigured servers and migrated CMSs do.

Deterministic: each page comes from `random.Random` seeded with (seed, index); no network.
"""

from __future__ import annotations

import html
import json
import random
from dataclasses import dataclass
from pathlib import Path

from sample_texts import TEXTS, topic_sentences

TEMPLATES = ("news", "blog", "forum", "product")
STYLES = ("semantic", "divsoup", "hashed", "table")
EXTRA_TEMPLATES = ("boilerplate",)  # a page with no main text (an empty category page), never in make_pages

# The charsets sites in each language are served in (Python codec names, which WHATWG labels map onto).
CHARSETS = {
    "en": ("windows-1252", "iso-8859-1"),
    "fr": ("windows-1252", "iso-8859-15", "iso-8859-1"),
    "es": ("windows-1252", "iso-8859-1"),
    "pt": ("windows-1252", "iso-8859-1"),
    "fi": ("iso-8859-15", "windows-1252"),
    "eu": ("iso-8859-1", "windows-1252"),
    "id": ("windows-1252",),
    "sw": (),
    "vi": (),  # windows-1258 Vietnamese needs decomposed tone marks; sites moved to UTF-8 long ago
    "yo": (),  # combining tone marks: UTF-8 only
    "ar": ("windows-1256", "iso-8859-6"),
    "hi": (),  # ISCII is not on the web
    "zhs": ("gbk", "gb18030", "gb2312"),
    "zht": ("big5",),
    "ja": ("shift_jis", "euc-jp"),
    "ru": ("windows-1251", "koi8-r"),
    "el": ("iso-8859-7", "windows-1253"),
    "pl": ("iso-8859-2", "windows-1250"),
}
LANGS = tuple(CHARSETS)
HTML_LANG = {
    "en": ("en", "en-GB", "en-US"),
    "zhs": ("zh-CN", "zh-Hans", "zh"),
    "zht": ("zh-TW", "zh-Hant", "zh-HK"),
    "pt": ("pt-PT", "pt"),
    "fr": ("fr", "fr-FR"),
    "es": ("es", "es-ES"),
}
TLD = {
    "en": "co.uk",
    "zhs": "cn",
    "zht": "tw",
    "ja": "jp",
    "el": "gr",
    "ar": "eg",
    "hi": "in",
    "sw": "co.tz",
    "yo": "ng",
}
RTL = {"ar"}
CJK = {"zhs", "zht", "ja"}

# Languages without a pool in texts/: sentences written for this project (invented places and people).
EXTRA_POOLS = {
    "ja": {
        "towns": ["桜川町", "青葉台", "川辺村", "松ヶ丘"],
        "people": ["山田花子", "佐藤健一", "鈴木美咲", "高橋誠"],
        "titles": ["{town}の春の便り", "{town}町議会、新しい歩道橋を承認", "台所から見た{town}の暮らし"],
        "sentences": [
            "毎年春になると、{town}の川沿いには桜が咲き、週末には多くの家族が花見に訪れます。",
            "町の図書館では、古い農具や写真を集めた小さな展示会が今月末まで開かれています。",
            "{person}さんによると、今年の夏は例年より雨が少なく、田んぼの水の管理が難しかったそうです。",
            "朝市では地元の農家が育てた野菜や漬物が並び、昼前にはほとんど売り切れてしまいます。",
            "味噌汁のだしは、昆布を水に一晩つけておくだけで、ずっとまろやかな味になります。",
            "山の上の神社へ続く石段は三百段以上あり、秋には紅葉に包まれて見事な景色になります。",
            "町議会は火曜日、古くなった木の橋を新しい歩道橋に架け替える計画を承認しました。",
            "冬の夜に星がはっきり見えるのは、乾いた空気が光をあまり散らさないからです。",
            "駅前の商店街では、空き店舗を使った若い職人の工房が少しずつ増えています。",
            "地元の中学校の生徒たちは、川の水質を毎月調べ、その結果を公民館に掲示しています。",
            "祖母から教わった梅干しの作り方は、塩の量を量らず、手の感覚だけで決めるものでした。",
            "台風の後、ボランティアの人たちが集まり、倒れた木や流れてきた枝を片付けました。",
            "バスは来月から夕方の便が一本増え、高校生の帰りが少し楽になる見込みです。",
            "蜂が巣に戻る道を覚えていられるのは、太陽の位置と周りの景色を手がかりにしているからです。",
            "町の歴史をまとめた冊子が完成し、希望する住民には無料で配られることになりました。",
            "秋祭りの夜には、子どもたちが手作りの灯籠を持って川沿いの道を歩きます。",
        ],
    },
    "ru": {
        "towns": ["Березовка", "Сосновый Бор", "Кленовка", "Ольховка"],
        "people": ["Анна Соколова", "Игорь Петров", "Мария Лебедева", "Павел Орлов"],
        "titles": [
            "Весна в посёлке {town}",
            "В посёлке {town} отремонтируют мост",
            "Заметки краеведа из посёлка {town}",
        ],
        "sentences": [
            "Каждой весной луга вокруг посёлка {town} покрываются одуванчиками, и за несколько недель поля становятся ярко-жёлтыми.",
            "Местный краевед {person} уже двадцать лет собирает старые фотографии и письма жителей посёлка.",
            "В субботу на центральной площади пройдёт ярмарка, где фермеры будут продавать мёд, сыр и свежий хлеб.",
            "Секрет хорошего борща в том, чтобы свёклу тушить отдельно и добавлять её в кастрюлю в самом конце.",
            "Депутаты районного совета одобрили ремонт старого моста через реку, закрытого после весеннего паводка.",
            "Небо кажется голубым потому, что молекулы воздуха рассеивают короткие волны солнечного света сильнее длинных.",
            "Школьники каждый месяц измеряют температуру воды в пруду и записывают результаты в общий журнал.",
            "Зимой дорога к лесному озеру становится любимым местом лыжников, а по вечерам там слышно, как трещит лёд.",
            "Библиотека открыла мастерскую, где жители могут бесплатно починить велосипед, лампу или старые часы.",
            "По словам {person}, новые яблони в общественном саду начнут плодоносить уже через четыре года.",
            "Пироги с капустой здесь пекут по субботам, и запах из пекарни разносится по всей улице.",
            "Первое письменное упоминание о посёлке относится к {year} году, когда здесь стояла водяная мельница.",
            "Из-за сильного дождя в выходные ручей за церковью вышел из берегов, но дома не пострадали.",
            "Иней появляется ясными ночами, потому что земля быстро отдаёт тепло открытому небу.",
            "Автобус в райцентр со следующего месяца будет ходить на один рейс чаще, в том числе вечером.",
            "Осенью берёзовые рощи вокруг посёлка становятся золотыми, а тропинки покрываются мягким слоем листьев.",
        ],
    },
    "el": {
        "towns": ["Ανθούσα", "Πετρούλα", "Καστανιά", "Μηλιά"],
        "people": ["Μαρία Παπαδοπούλου", "Γιώργος Νικολάου", "Ελένη Γεωργίου", "Νίκος Δημητρίου"],
        "titles": ["Η άνοιξη στην {town}", "Νέα πεζογέφυρα για την {town}", "Ιστορίες από την κουζίνα της {town}"],
        "sentences": [
            "Κάθε άνοιξη οι λόφοι γύρω από την {town} γεμίζουν αγριολούλουδα και το χωριό μυρίζει θυμάρι.",
            "Το δημοτικό συμβούλιο ενέκρινε την Τρίτη την κατασκευή μιας νέας πεζογέφυρας πάνω από το ποτάμι.",
            "Η {person} μαθαίνει στα παιδιά του χωριού να φτιάχνουν ψωμί με προζύμι κάθε Σάββατο πρωί.",
            "Ο ουρανός φαίνεται γαλάζιος επειδή τα μόρια του αέρα σκεδάζουν το μπλε φως πολύ περισσότερο από το κόκκινο.",
            "Στη λαϊκή αγορά της πλατείας οι παραγωγοί πουλάνε μέλι, ελιές και φρέσκο τυρί από τα γύρω χωριά.",
            "Η πρώτη γραπτή αναφορά στον οικισμό χρονολογείται από το {year}, όταν λειτουργούσε εδώ ένας νερόμυλος.",
            "Εθελοντές φύτεψαν εκατοντάδες νεαρές βελανιδιές στη βόρεια πλαγιά τον περασμένο χειμώνα.",
            "Το μυστικό για μια καλή φασολάδα είναι η υπομονή: σιγανή φωτιά, άφθονο ελαιόλαδο και λίγο σέλινο.",
            "Η βιβλιοθήκη άνοιξε ένα εργαστήριο επισκευών όπου οι κάτοικοι φέρνουν χαλασμένες λάμπες και ρολόγια.",
            "Λόγω της έντονης βροχής το ρέμα πίσω από την εκκλησία ξεχείλισε, αλλά κανένα σπίτι δεν πλημμύρισε.",
            "Οι μέλισσες βρίσκουν το δρόμο για την κυψέλη θυμούμενες σημάδια του τοπίου και τη θέση του ήλιου.",
            "Το λεωφορείο για την πόλη θα κάνει ένα επιπλέον βραδινό δρομολόγιο από τον επόμενο μήνα.",
            "Το φθινόπωρο οι καστανιές στο βουνό αλλάζουν χρώμα και τα μονοπάτια γεμίζουν πεσμένα φύλλα.",
            "Μια μικρή έκθεση με παλιές φωτογραφίες του χωριού θα μείνει ανοιχτή κάθε απόγευμα ως το τέλος του μήνα.",
        ],
    },
    "pl": {
        "towns": ["Brzozowa Wola", "Zielony Jar", "Dębina", "Olszanka"],
        "people": ["Katarzyna Nowak", "Tomasz Wiśniewski", "Agnieszka Zając", "Piotr Kowalczyk"],
        "titles": ["Wiosna w miejscowości {town}", "Nowa kładka w miejscowości {town}", "Kuchnia i zwyczaje: {town}"],
        "sentences": [
            "Każdej wiosny łąki wokół miejscowości {town} pokrywają się kaczeńcami, a nad stawem słychać żaby.",
            "Rada gminy zatwierdziła we wtorek budowę nowej kładki dla pieszych nad rzeką.",
            "{person} od trzydziestu lat prowadzi dziennik przyrody i twierdzi, że jaskółki przylatują coraz wcześniej.",
            "Na sobotnim targu rolnicy sprzedają miód, wędzony ser i świeży chleb na zakwasie.",
            "Dobry żurek wymaga cierpliwości: zakwas trzeba nastawić kilka dni wcześniej i trzymać w ciepłym miejscu.",
            "Niebo wydaje się niebieskie, ponieważ cząsteczki powietrza rozpraszają krótkie fale światła silniej niż długie.",
            "Pierwsza wzmianka o wsi pochodzi z roku {year}, kiedy nad rzeką stał drewniany młyn.",
            "Wolontariusze z biblioteki otworzyli kawiarenkę naprawczą, do której można przynieść zepsute lampy i zegary.",
            "Z powodu ulewnego deszczu potok za kościołem wystąpił z brzegów, ale żaden dom nie został zalany.",
            "Autobus do miasta będzie od przyszłego miesiąca kursował także wieczorem.",
            "Jesienią bukowe lasy wokół wsi stają się miedziane i złote, a ścieżki toną w liściach.",
            "Pszczoły odnajdują drogę do ula, zapamiętując punkty w krajobrazie i położenie słońca.",
            "Uczniowie miejscowej szkoły co miesiąc mierzą temperaturę wody w stawie i zapisują wyniki w dzienniku.",
            "Mała wystawa starych fotografii wsi będzie otwarta każdego popołudnia do końca sezonu.",
        ],
    },
}

# Site chrome in each language. Basque, Swahili and Yoruba sites here run an English theme
# (common for small-language sites on off-the-shelf CMS themes).
_KEYS = [
    "nav",
    "home",
    "contact",
    "about",
    "privacy",
    "terms",
    "search",
    "cookie",
    "accept",
    "settings",
    "rights",
    "related",
    "most_read",
    "read_more",
    "share",
    "comments",
    "reply",
    "newsletter",
    "subscribe",
    "ad",
    "by",
    "add_to_cart",
    "in_stock",
    "reviews",
    "posted",
    "quote",
    "joined",
    "login",
    "site",
]
CHROME_TABLE = {
    "en": [
        "News|Local|Sport|Culture|Science|Opinion",
        "Home",
        "Contact us",
        "About us",
        "Privacy policy",
        "Terms of use",
        "Search",
        "We use cookies to improve your experience on our website. By continuing to browse, you agree to our use of cookies.",
        "Accept all",
        "Cookie settings",
        "All rights reserved.",
        "Related articles",
        "Most read",
        "Read more",
        "Share",
        "Comments",
        "Reply",
        "Sign up for our weekly newsletter and never miss a story from the valley.",
        "Subscribe",
        "Advertisement",
        "By",
        "Add to basket",
        "In stock",
        "Customer reviews",
        "Posted",
        "Quote",
        "Joined",
        "Log in",
        "Courier",
    ],
    "fr": [
        "Actualités|Région|Sport|Culture|Sciences|Opinions",
        "Accueil",
        "Nous contacter",
        "Qui sommes-nous",
        "Politique de confidentialité",
        "Conditions d’utilisation",
        "Rechercher",
        "Nous utilisons des cookies pour améliorer votre expérience. En poursuivant votre navigation, vous acceptez leur utilisation.",
        "Tout accepter",
        "Paramétrer les cookies",
        "Tous droits réservés.",
        "À lire aussi",
        "Les plus lus",
        "Lire la suite",
        "Partager",
        "Commentaires",
        "Répondre",
        "Inscrivez-vous à notre lettre d’information pour recevoir chaque semaine nos meilleurs articles.",
        "S’abonner",
        "Publicité",
        "Par",
        "Ajouter au panier",
        "En stock",
        "Avis clients",
        "Publié",
        "Citer",
        "Inscrit",
        "Se connecter",
        "L’Écho",
    ],
    "es": [
        "Noticias|Local|Deportes|Cultura|Ciencia|Opinión",
        "Inicio",
        "Contacto",
        "Quiénes somos",
        "Política de privacidad",
        "Aviso legal",
        "Buscar",
        "Utilizamos cookies para mejorar su experiencia. Si continúa navegando, acepta su uso.",
        "Aceptar todas",
        "Configurar cookies",
        "Todos los derechos reservados.",
        "Noticias relacionadas",
        "Lo más leído",
        "Leer más",
        "Compartir",
        "Comentarios",
        "Responder",
        "Suscríbase a nuestro boletín semanal y reciba las mejores historias de la comarca.",
        "Suscribirse",
        "Publicidad",
        "Por",
        "Añadir a la cesta",
        "En stock",
        "Opiniones de clientes",
        "Publicado",
        "Citar",
        "Registrado",
        "Iniciar sesión",
        "El Diario",
    ],
    "pt": [
        "Notícias|Região|Desporto|Cultura|Ciência|Opinião",
        "Início",
        "Contactos",
        "Sobre nós",
        "Política de privacidade",
        "Termos de utilização",
        "Pesquisar",
        "Utilizamos cookies para melhorar a sua experiência. Ao continuar a navegar, aceita a sua utilização.",
        "Aceitar todos",
        "Definições de cookies",
        "Todos os direitos reservados.",
        "Artigos relacionados",
        "Mais lidas",
        "Ler mais",
        "Partilhar",
        "Comentários",
        "Responder",
        "Subscreva a nossa newsletter semanal e receba as melhores histórias da região.",
        "Subscrever",
        "Publicidade",
        "Por",
        "Adicionar ao carrinho",
        "Em stock",
        "Opiniões de clientes",
        "Publicado",
        "Citar",
        "Registado",
        "Entrar",
        "Jornal",
    ],
    "fi": [
        "Uutiset|Kotimaa|Urheilu|Kulttuuri|Tiede|Mielipide",
        "Etusivu",
        "Ota yhteyttä",
        "Tietoa meistä",
        "Tietosuojaseloste",
        "Käyttöehdot",
        "Hae",
        "Käytämme evästeitä parantaaksemme käyttökokemustasi. Jatkamalla selaamista hyväksyt evästeiden käytön.",
        "Hyväksy kaikki",
        "Evästeasetukset",
        "Kaikki oikeudet pidätetään.",
        "Aiheeseen liittyvät",
        "Luetuimmat",
        "Lue lisää",
        "Jaa",
        "Kommentit",
        "Vastaa",
        "Tilaa viikoittainen uutiskirjeemme, niin saat parhaat jutut suoraan sähköpostiisi.",
        "Tilaa",
        "Mainos",
        "Kirjoittanut",
        "Lisää ostoskoriin",
        "Varastossa",
        "Asiakasarviot",
        "Lähetetty",
        "Lainaa",
        "Liittynyt",
        "Kirjaudu",
        "Sanomat",
    ],
    "id": [
        "Berita|Daerah|Olahraga|Budaya|Sains|Opini",
        "Beranda",
        "Hubungi kami",
        "Tentang kami",
        "Kebijakan privasi",
        "Syarat penggunaan",
        "Cari",
        "Kami menggunakan cookie untuk meningkatkan pengalaman Anda. Dengan terus menjelajah, Anda menyetujui penggunaan cookie.",
        "Terima semua",
        "Pengaturan cookie",
        "Hak cipta dilindungi undang-undang.",
        "Artikel terkait",
        "Terpopuler",
        "Baca selengkapnya",
        "Bagikan",
        "Komentar",
        "Balas",
        "Daftar ke buletin mingguan kami agar tidak ketinggalan cerita dari lembah.",
        "Berlangganan",
        "Iklan",
        "Oleh",
        "Tambah ke keranjang",
        "Tersedia",
        "Ulasan pelanggan",
        "Diposting",
        "Kutip",
        "Bergabung",
        "Masuk",
        "Kabar",
    ],
    "vi": [
        "Tin tức|Địa phương|Thể thao|Văn hóa|Khoa học|Ý kiến",
        "Trang chủ",
        "Liên hệ",
        "Giới thiệu",
        "Chính sách bảo mật",
        "Điều khoản sử dụng",
        "Tìm kiếm",
        "Chúng tôi sử dụng cookie để cải thiện trải nghiệm của bạn. Khi tiếp tục truy cập, bạn đồng ý với việc sử dụng cookie.",
        "Chấp nhận tất cả",
        "Cài đặt cookie",
        "Bảo lưu mọi quyền.",
        "Bài viết liên quan",
        "Đọc nhiều nhất",
        "Xem thêm",
        "Chia sẻ",
        "Bình luận",
        "Trả lời",
        "Đăng ký nhận bản tin hằng tuần để không bỏ lỡ câu chuyện nào từ thung lũng.",
        "Đăng ký",
        "Quảng cáo",
        "Bởi",
        "Thêm vào giỏ hàng",
        "Còn hàng",
        "Đánh giá của khách hàng",
        "Đăng lúc",
        "Trích dẫn",
        "Tham gia",
        "Đăng nhập",
        "Báo",
    ],
    "ar": [
        "أخبار|محليات|رياضة|ثقافة|علوم|رأي",
        "الرئيسية",
        "اتصل بنا",
        "من نحن",
        "سياسة الخصوصية",
        "شروط الاستخدام",
        "بحث",
        "نستخدم ملفات تعريف الارتباط لتحسين تجربتك على موقعنا. بمواصلة التصفح فإنك توافق على استخدامها.",
        "قبول الكل",
        "إعدادات ملفات الارتباط",
        "جميع الحقوق محفوظة.",
        "مقالات ذات صلة",
        "الأكثر قراءة",
        "اقرأ المزيد",
        "شارك",
        "التعليقات",
        "رد",
        "اشترك في نشرتنا الأسبوعية لتصلك أفضل القصص من الوادي كل أسبوع.",
        "اشترك",
        "إعلان",
        "بقلم",
        "أضف إلى السلة",
        "متوفر",
        "آراء العملاء",
        "نشر في",
        "اقتباس",
        "انضم",
        "تسجيل الدخول",
        "الصحيفة",
    ],
    "hi": [
        "समाचार|स्थानीय|खेल|संस्कृति|विज्ञान|विचार",
        "होम",
        "संपर्क करें",
        "हमारे बारे में",
        "गोपनीयता नीति",
        "उपयोग की शर्तें",
        "खोजें",
        "हम आपके अनुभव को बेहतर बनाने के लिए कुकीज़ का उपयोग करते हैं। ब्राउज़ करना जारी रखकर आप कुकीज़ के उपयोग से सहमत होते हैं।",
        "सभी स्वीकार करें",
        "कुकी सेटिंग्स",
        "सर्वाधिकार सुरक्षित।",
        "संबंधित लेख",
        "सबसे ज़्यादा पढ़े गए",
        "और पढ़ें",
        "शेयर करें",
        "टिप्पणियाँ",
        "जवाब दें",
        "हमारे साप्ताहिक न्यूज़लेटर की सदस्यता लें और घाटी की कोई भी ख़बर न चूकें।",
        "सदस्यता लें",
        "विज्ञापन",
        "लेखक",
        "कार्ट में डालें",
        "स्टॉक में",
        "ग्राहक समीक्षाएँ",
        "पोस्ट किया",
        "उद्धरण",
        "सदस्य बने",
        "लॉग इन",
        "समाचार पत्र",
    ],
    "zhs": [
        "新闻|本地|体育|文化|科学|评论",
        "首页",
        "联系我们",
        "关于我们",
        "隐私政策",
        "使用条款",
        "搜索",
        "我们使用Cookie来改善您在本网站的体验。继续浏览即表示您同意我们使用Cookie。",
        "全部接受",
        "Cookie设置",
        "版权所有，保留一切权利。",
        "相关文章",
        "热门阅读",
        "阅读全文",
        "分享",
        "评论",
        "回复",
        "订阅我们的每周通讯，不错过山谷里的任何故事。",
        "订阅",
        "广告",
        "作者",
        "加入购物车",
        "有货",
        "用户评价",
        "发表于",
        "引用",
        "注册时间",
        "登录",
        "日报",
    ],
    "zht": [
        "新聞|地方|體育|文化|科學|評論",
        "首頁",
        "聯絡我們",
        "關於我們",
        "隱私權政策",
        "使用條款",
        "搜尋",
        "我們使用Cookie來改善您在本網站的體驗。繼續瀏覽即表示您同意我們使用Cookie。",
        "全部接受",
        "Cookie設定",
        "版權所有，翻印必究。",
        "相關文章",
        "熱門閱讀",
        "閱讀全文",
        "分享",
        "留言",
        "回覆",
        "訂閱我們的每週電子報，不錯過山谷裡的任何故事。",
        "訂閱",
        "廣告",
        "作者",
        "加入購物車",
        "有現貨",
        "顧客評價",
        "發表於",
        "引用",
        "註冊時間",
        "登入",
        "日報",
    ],
    "ja": [
        "ニュース|地域|スポーツ|文化|科学|オピニオン",
        "ホーム",
        "お問い合わせ",
        "会社概要",
        "プライバシーポリシー",
        "利用規約",
        "検索",
        "当サイトでは、利便性向上のためにクッキーを使用しています。閲覧を続けることで、クッキーの使用に同意したものとみなします。",
        "すべて許可",
        "クッキー設定",
        "無断転載を禁じます。",
        "関連記事",
        "よく読まれている記事",
        "続きを読む",
        "共有",
        "コメント",
        "返信",
        "毎週のニュースレターに登録して、谷の話題を見逃さないようにしましょう。",
        "登録する",
        "広告",
        "文",
        "カートに入れる",
        "在庫あり",
        "カスタマーレビュー",
        "投稿日",
        "引用",
        "登録日",
        "ログイン",
        "新聞",
    ],
    "ru": [
        "Новости|Район|Спорт|Культура|Наука|Мнения",
        "Главная",
        "Контакты",
        "О нас",
        "Политика конфиденциальности",
        "Пользовательское соглашение",
        "Поиск",
        "Мы используем файлы cookie, чтобы сайт работал удобнее. Продолжая просмотр, вы соглашаетесь с их использованием.",
        "Принять все",
        "Настройки cookie",
        "Все права защищены.",
        "Читайте также",
        "Самое читаемое",
        "Читать далее",
        "Поделиться",
        "Комментарии",
        "Ответить",
        "Подпишитесь на нашу еженедельную рассылку, чтобы не пропустить ни одной новости района.",
        "Подписаться",
        "Реклама",
        "Автор",
        "В корзину",
        "В наличии",
        "Отзывы покупателей",
        "Опубликовано",
        "Цитировать",
        "Регистрация",
        "Войти",
        "Вестник",
    ],
    "el": [
        "Ειδήσεις|Τοπικά|Αθλητικά|Πολιτισμός|Επιστήμη|Απόψεις",
        "Αρχική",
        "Επικοινωνία",
        "Ποιοι είμαστε",
        "Πολιτική απορρήτου",
        "Όροι χρήσης",
        "Αναζήτηση",
        "Χρησιμοποιούμε cookies για να βελτιώσουμε την εμπειρία σας. Συνεχίζοντας την περιήγηση αποδέχεστε τη χρήση τους.",
        "Αποδοχή όλων",
        "Ρυθμίσεις cookies",
        "Με την επιφύλαξη παντός δικαιώματος.",
        "Σχετικά άρθρα",
        "Τα πιο δημοφιλή",
        "Διαβάστε περισσότερα",
        "Κοινοποίηση",
        "Σχόλια",
        "Απάντηση",
        "Εγγραφείτε στο εβδομαδιαίο ενημερωτικό μας δελτίο για να μη χάνετε καμία ιστορία.",
        "Εγγραφή",
        "Διαφήμιση",
        "Από",
        "Προσθήκη στο καλάθι",
        "Διαθέσιμο",
        "Κριτικές πελατών",
        "Δημοσιεύτηκε",
        "Παράθεση",
        "Μέλος από",
        "Σύνδεση",
        "Εφημερίδα",
    ],
    "pl": [
        "Wiadomości|Region|Sport|Kultura|Nauka|Opinie",
        "Strona główna",
        "Kontakt",
        "O nas",
        "Polityka prywatności",
        "Regulamin",
        "Szukaj",
        "Używamy plików cookie, aby ułatwić korzystanie z serwisu. Kontynuując przeglądanie, zgadzasz się na ich użycie.",
        "Akceptuję wszystkie",
        "Ustawienia cookie",
        "Wszelkie prawa zastrzeżone.",
        "Zobacz także",
        "Najczęściej czytane",
        "Czytaj dalej",
        "Udostępnij",
        "Komentarze",
        "Odpowiedz",
        "Zapisz się na nasz cotygodniowy newsletter i nie przegap żadnej wiadomości z doliny.",
        "Zapisz się",
        "Reklama",
        "Autor",
        "Dodaj do koszyka",
        "Dostępny",
        "Opinie klientów",
        "Dodano",
        "Cytuj",
        "Dołączył",
        "Zaloguj się",
        "Gazeta",
    ],
}
CHROME = {lang: dict(zip(_KEYS, CHROME_TABLE.get(lang, CHROME_TABLE["en"]), strict=True)) for lang in LANGS}


@dataclass(frozen=True)
class Page:
    html: bytes  # the HTTP body as served
    main_text: str  # the article text: paragraphs separated by "\n" (the title is not part of it)
    title: str  # the article title (the <title> element is "<title> | <site>")
    lang: str  # rootstock language code
    charset: str  # the charset the body is really encoded in (a Python codec name)
    declared_charset: str | None  # the HTTP Content-Type charset: may be missing or wrong
    meta_charset: str | None  # what the page's own <meta>/XML declaration says: may be missing or wrong
    html_lang: str | None  # what <html lang> (or content-language) says: may be a CMS default
    url: str
    template: str
    style: str
    boilerplate: tuple[str, ...]  # sentences on the page that are not main text (cookie banner, newsletter, footer)


def _sections(lang: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current = None
    for line in (TEXTS / f"{lang}.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("@"):
            current = line[1:].split()[0]
            out.setdefault(current, [])
        elif current and line.strip() and not line.startswith("#"):
            out[current].append(line.strip())
    return out


_CACHE: dict[str, dict] = {}
_KEEP = {k: "{" + k + "}" for k in ("town", "person", "year", "n", "few", "temp", "big")}


def _lang_data(lang: str) -> dict:
    if lang not in _CACHE:
        if lang in EXTRA_POOLS:
            data = EXTRA_POOLS[lang]
            _CACHE[lang] = {
                "towns": data["towns"],
                "people": data["people"],
                "titles": data["titles"],
                "sentences": data["sentences"],
                "comments": data["sentences"],
            }
        else:
            sec = _sections(lang)
            _CACHE[lang] = {
                "towns": sec["towns"],
                "people": sec["people"],
                "titles": sec["titles"],
                "sentences": topic_sentences(lang, _KEEP),  # placeholders kept: each page fills its own
                "comments": _topic_lines(lang, "forum"),  # English has forum posts; others reuse the pool
            }
    return _CACHE[lang]


def _topic_lines(lang: str, topic: str) -> list[str]:
    out, inside = [], False
    for line in (TEXTS / f"{lang}.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("@"):
            inside = line.strip() == f"@topic {topic}"
        elif inside and line.strip() and not line.startswith("#"):
            out.append(line.strip())
    return out


def _fill(template: str, rng: random.Random, data: dict) -> str:
    values = {
        "town": rng.choice(data["towns"]),
        "person": rng.choice(data["people"]),
        "year": str(rng.randint(1420, 1960)),
        "n": str(rng.randint(12, 90)),
        "few": str(rng.randint(3, 9)),
        "temp": str(rng.randint(29, 41)),
        "big": str(rng.randint(120, 2400)),
    }
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    return out


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


class _Markup:
    """Opening and closing tags of a page region in one markup style."""

    SEMANTIC = {
        "header": ("header", "site-header"),
        "nav": ("nav", "main-nav"),
        "main": ("main", "content"),
        "article": ("article", "article"),
        "body": ("div", "article-body"),
        "aside": ("aside", "sidebar"),
        "footer": ("footer", "site-footer"),
        "comments": ("section", "comments"),
        "comment": ("div", "comment"),
        "cookie": ("div", "cookie-banner"),
        "share": ("div", "share-buttons"),
        "ad": ("div", "ad-slot"),
        "crumbs": ("nav", "breadcrumb"),
        "meta": ("div", "byline"),
        "post": ("article", "post"),
        "related": ("section", "related"),
        "newsletter": ("div", "newsletter"),
        "product": ("div", "product"),
        "tags": ("div", "tags"),
    }
    DIVSOUP = {
        "header": "site-header",
        "nav": "main-navigation",
        "main": "site-content",
        "article": "post hentry",
        "body": "entry-content",
        "aside": "widget-area",
        "footer": "site-footer",
        "comments": "comments-area",
        "comment": "comment-body",
        "cookie": "cc-window cc-banner",
        "share": "sharedaddy",
        "ad": "adsbygoogle-wrap",
        "crumbs": "breadcrumbs",
        "meta": "entry-meta",
        "post": "postbit",
        "related": "widget related-posts",
        "newsletter": "widget mc4wp-form",
        "product": "woocommerce-product",
        "tags": "tag-links",
    }

    def __init__(self, style: str, rng: random.Random):
        self.style = style
        self.hashes = {role: f"sc-{rng.getrandbits(24):06x} css-{rng.getrandbits(20):05x}" for role in self.DIVSOUP}

    def open(self, role: str, extra: str = "") -> str:
        if self.style == "semantic":
            tag, cls = self.SEMANTIC[role]
        elif self.style == "hashed":
            tag, cls = "div", self.hashes[role]
        else:  # divsoup, and the inner regions of the table layout
            tag, cls = "div", self.DIVSOUP[role]
        return f'<{tag} class="{cls}"{extra}>'

    def close(self, role: str) -> str:
        tag = self.SEMANTIC[role][0] if self.style == "semantic" else "div"
        return f"</{tag}>"


_CSS_SELECTORS = (".c{:x}", "#b{:x} > li", ".nav-{:x} a:hover", "@media (max-width:{}px){{.m{:x}")
_CSS_PROPS = ("margin:0 auto", "padding:{}px", "color:#{:06x}", "font-size:{}px", "display:flex", "line-height:1.{}")


def _css(rng: random.Random) -> str:
    """A site's inline stylesheet: 10-100 kB of rules (one random draw per rule keeps generation fast)."""
    rules = []
    for _ in range(rng.randint(150, 1500)):
        bits = rng.getrandbits(64)
        sel = _CSS_SELECTORS[bits & 3].format(bits >> 2 & 0xFFFF, bits >> 18 & 0xFFF)
        size, color = bits >> 30 & 63, bits >> 36 & 0xFFFFFF
        body = ";".join(_CSS_PROPS[(bits >> shift) % 6].format(size, color) for shift in (60, 61, 62))
        rules.append(f"{sel}{{{body}}}" + ("}" if sel.startswith("@media") else ""))
    return "".join(rules)


_JS_FILES: list[str] = []


def _js(rng: random.Random) -> str:
    if not _JS_FILES:
        chunks = (TEXTS / "code_javascript.txt").read_text(encoding="utf-8").split("%%% FILE")
        _JS_FILES.extend(c.split("\n", 1)[1] for c in chunks if "\n" in c)
    analytics = (
        "window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
        f"gtag('js',new Date());gtag('config','G-{rng.getrandbits(32):08X}');"
    )
    return analytics + "\n" + "\n".join(rng.sample(_JS_FILES, rng.randint(1, 3))).replace("</", "<\\/")


def _svg(rng: random.Random) -> str:
    path = " ".join(f"L{rng.randint(0, 24)} {rng.randint(0, 24)}" for _ in range(rng.randint(8, 30)))
    return f'<svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true"><path d="M0 0 {path}Z"/></svg>'


def _paragraphs(rng: random.Random, data: dict, joiner: str, count: int, per: tuple[int, int]) -> list[str]:
    """`count` paragraphs of `per` sentences, no sentence twice (fewer paragraphs if the pool runs out)."""
    picked = rng.sample(data["sentences"], len(data["sentences"]))
    out = []
    for _ in range(count):
        k = rng.randint(*per)
        if len(picked) < k:
            break
        chunk, picked = picked[:k], picked[k:]
        out.append(joiner.join(_fill(s, rng, data) for s in chunk))
    return out


def _charsets(lang: str, rng: random.Random) -> tuple[str, str | None, str | None]:
    """(real charset, HTTP header charset, <meta> charset): headers lie the ways servers do."""
    legacy = CHARSETS[lang]
    real = rng.choice(legacy) if legacy and rng.random() < 0.5 else "utf-8"
    roll = rng.random()
    if roll < 0.8:
        meta = real
    elif roll < 0.9:
        meta = None
    else:  # a template copied from another site, or a CMS migrated to UTF-8 that kept old pages
        meta = "utf-8" if real != "utf-8" else (rng.choice(legacy) if legacy else "iso-8859-1")
    roll = rng.random()
    if roll < 0.45:
        header = real
    elif roll < 0.75:
        header = None
    elif real == "utf-8":
        header = "iso-8859-1"  # Apache's old AddDefaultCharset
    else:
        header = rng.choice(["utf-8", "iso-8859-1"])  # a server or CDN default
    return real, header, meta


def _meta_tag(meta: str | None, rng: random.Random) -> str:
    if meta is None:
        return ""
    if rng.random() < 0.6:
        return f'<meta charset="{meta}">'
    return f'<meta http-equiv="Content-Type" content="text/html; charset={meta}">'


def make_page(
    lang: str,
    rng: random.Random,
    template: str | None = None,
    style: str | None = None,
    charsets: tuple[str, str | None, str | None] | None = None,
) -> Page:
    """One page in `lang`; `template`, `style` and `charsets` (real, HTTP header, <meta>) are drawn from `rng` when not given."""
    template = template or rng.choice(TEMPLATES)
    style = style or rng.choice(STYLES)
    data = _lang_data(lang)
    chrome = CHROME[lang]
    joiner = "" if lang in CJK else " "
    m = _Markup(style, rng)
    real, header, meta = _charsets(lang, rng)
    if charsets is not None:
        real, header, meta = charsets
    town = rng.choice(data["towns"])
    site = f"{town} {chrome['site']}" if lang not in CJK else f"{town}{chrome['site']}"
    title = _fill(rng.choice(data["titles"]), rng, data)
    year = rng.randint(2009, 2025)
    page_id = rng.getrandbits(32)
    url = f"https://www.{abs(hash_str(site)) % 10**6:06d}-news.{TLD.get(lang, lang)}/{template}/{page_id}.html"
    nav = chrome["nav"].split("|")
    person = rng.choice(data["people"])

    lang_roll = rng.random()
    if lang_roll < 0.75:
        html_lang = rng.choice(HTML_LANG.get(lang, (lang if lang not in ("zhs", "zht") else "zh",)))
        html_lang_where = "html"
    elif lang_roll < 0.82:
        html_lang = "en-US"  # a CMS default nobody changed
        html_lang_where = "html"
    elif lang_roll < 0.9:
        html_lang = rng.choice(HTML_LANG.get(lang, (lang,)))
        html_lang_where = "meta"
    else:
        html_lang, html_lang_where = None, None

    # main text
    headings: set[str] = set()
    if template == "forum":
        posts = _paragraphs(rng, data, joiner, rng.randint(3, 7), (1, 3))
        if lang == "en" and data["comments"]:
            posts = [_fill(s, rng, data) for s in rng.sample(data["comments"], min(len(data["comments"]), len(posts)))]
        paragraphs = posts
    elif template == "product":
        paragraphs = _paragraphs(rng, data, joiner, rng.randint(2, 3), (2, 3))
    elif template == "boilerplate":
        paragraphs = []
    else:
        paragraphs = _paragraphs(rng, data, joiner, rng.randint(3, 8), (2, 4))
        if len(paragraphs) > 2 and rng.random() < 0.5:  # subheadings are part of the article
            for at in sorted(rng.sample(range(1, len(paragraphs)), rng.randint(1, 2)), reverse=True):
                paragraphs.insert(at, _fill(rng.choice(data["titles"]), rng, data))
                headings.add(paragraphs[at])
    main_text = "\n".join(paragraphs)

    cookie = chrome["cookie"]
    newsletter = chrome["newsletter"]
    rights = f"© {year} {site}. {chrome['rights']}"
    boilerplate = (cookie, newsletter, rights)

    out: list[str] = []
    w = out.append
    dir_attr = ' dir="rtl"' if lang in RTL else ""
    lang_attr = f' lang="{html_lang}"' if html_lang_where == "html" else ""
    w("<!DOCTYPE html>\n")
    w(f"<html{lang_attr}{dir_attr}>\n<head>\n")
    w(_meta_tag(meta, rng))
    if html_lang_where == "meta":
        w(f'<meta http-equiv="content-language" content="{html_lang}">')
    w(f"<title>{_esc(title)} | {_esc(site)}</title>\n")
    w('<meta name="viewport" content="width=device-width, initial-scale=1">')
    if paragraphs:
        w(f'<meta name="description" content="{_attr(paragraphs[0][:150])}">')
    w(f'<meta property="og:title" content="{_attr(title)}"><link rel="canonical" href="{url}">')
    w(f'<link rel="stylesheet" href="/assets/main.{rng.getrandbits(32):08x}.css">')
    w(f"<style>{_css(rng)}</style>\n")
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "author": {"name": person}}
    w(f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>\n')
    w(f"<script>{_js(rng)}</script>\n</head>\n")
    w(f'<body class="page-{template} lang-{lang}">\n')

    # cookie banner (a fixed overlay; often the first text in the body)
    w(m.open("cookie", ' role="dialog" aria-live="polite"'))
    w(f"<p>{_esc(cookie)}</p><button>{_esc(chrome['accept'])}</button> <button>{_esc(chrome['settings'])}</button>")
    w(m.close("cookie") + "\n")
    w(f'<div class="modal" style="display:none"><p>{_esc(chrome["login"])}</p><input type="email"></div>')

    nav_html = "".join(f'<li><a href="/{i}/">{_esc(item)}</a></li>' for i, item in enumerate(nav))
    header_html = (
        m.open("header")
        + f'<a class="logo" href="/"><img src="/logo.png" alt="{_attr(site)}"></a>'
        + m.open("nav")
        + f'<ul><li><a href="/">{_esc(chrome["home"])}</a></li>{nav_html}</ul>'
        + m.close("nav")
        + f'<form action="/search"><input name="q" placeholder="{_attr(chrome["search"])}"><button>{_esc(chrome["search"])}</button></form>'
        + f'<a href="/login">{_esc(chrome["login"])}</a>'
        + m.close("header")
        + "\n"
    )
    section = rng.choice(nav)
    crumbs = (
        m.open("crumbs")
        + f'<a href="/">{_esc(chrome["home"])}</a> › <a href="/s/">{_esc(section)}</a> › <span>{_esc(title)}</span>'
        + m.close("crumbs")
    )
    share = m.open("share") + f"<span>{_esc(chrome['share'])}</span>"
    for net in ("Facebook", "X", "WhatsApp", "E-mail"):
        share += f'<a href="#" class="share-{net.lower()}">{_svg(rng)}<span>{net}</span></a>'
    share += m.close("share")

    def ad() -> str:
        return (
            m.open("ad")
            + f'<span class="ad-label">{_esc(chrome["ad"])}</span><ins class="adsbygoogle" data-ad-slot="{rng.getrandbits(32)}"></ins>'
            + f"<script>(adsbygoogle=window.adsbygoogle||[]).push({{}});</script>{m.close('ad')}"
        )

    def headlines(k: int) -> str:
        items = []
        for _ in range(k):
            headline = _fill(rng.choice(data["titles"]), rng, data)
            items.append(f'<li><a href="/a/{rng.getrandbits(20)}">{_esc(headline)}</a></li>')
        return "<ul>" + "".join(items) + "</ul>"

    sidebar = (
        m.open("aside")
        + m.open("related")
        + f"<h3>{_esc(chrome['related'])}</h3>{headlines(rng.randint(3, 6))}"
        + m.close("related")
        + f"<h3>{_esc(chrome['most_read'])}</h3><ol>"
        + "".join(
            f"<li><a href='/m/{i}'>{_esc(_fill(rng.choice(data['titles']), rng, data))}</a></li>" for i in range(5)
        )
        + "</ol>"
        + m.open("newsletter")
        + f"<p>{_esc(newsletter)}</p><input type='email'><button>{_esc(chrome['subscribe'])}</button>"
        + m.close("newsletter")
        + ad()
        + m.close("aside")
    )
    footer = (
        m.open("footer")
        + "<ul>"
        + "".join(f'<li><a href="/{k}">{_esc(chrome[k])}</a></li>' for k in ("about", "contact", "privacy", "terms"))
        + f"</ul><p>{_esc(rights)}</p>"
        + f"<p>{_esc(site)} · info@example.{TLD.get(lang, lang)} · +{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}</p>"
        + m.close("footer")
    )

    def linked(para: str) -> str:
        """The paragraph, a third of the time with a few of its words inside a link, as articles have."""
        if rng.random() >= 0.35:
            return _esc(para)
        units = list(para) if lang in CJK else para.split(" ")
        k = rng.randint(2, 6) if lang in CJK else rng.randint(1, 4)
        start = rng.randint(0, max(0, len(units) - k))
        sep = "" if lang in CJK else " "
        before, inside, after = (
            sep.join(part) for part in (units[:start], units[start : start + k], units[start + k :])
        )
        link = f'<a href="/t/{rng.getrandbits(16)}">{_esc(inside)}</a>'
        return _esc(before) + (sep if before else "") + link + (sep if after else "") + _esc(after)

    def body_html(paras: list[str]) -> str:
        parts = []
        ad_at = rng.randint(1, max(1, len(paras) - 1)) if len(paras) > 2 else -1
        for i, para in enumerate(paras):
            if i == ad_at:
                parts.append(ad())
            if para in headings:
                parts.append(f"<b>{_esc(para)}</b><br>\n" if style == "table" else f"<h2>{_esc(para)}</h2>\n")
            elif style == "table":
                parts.append(f"{linked(para)}<br><br>\n")
            else:
                parts.append(f"<p>{linked(para)}</p>\n")
        return "".join(parts)

    date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    byline = (
        m.open("meta")
        + f"{_esc(chrome['by'])} <a href='/author/'>{_esc(person)}</a> · <time datetime='{date}'>{date}</time>"
        + m.close("meta")
    )

    def comments_html(k: int) -> str:
        pool = data["comments"] or data["sentences"]
        parts = [m.open("comments"), f"<h3>{k} {_esc(chrome['comments'])}</h3>"]
        for _ in range(k):
            who = rng.choice(data["people"])
            parts.append(
                m.open("comment")
                + f"<b>{_esc(who)}</b> <time>{date}</time><p>{_esc(_fill(rng.choice(pool), rng, data))}</p>"
                + f"<a href='#reply'>{_esc(chrome['reply'])}</a>"
                + m.close("comment")
            )
        parts.append(m.close("comments"))
        return "".join(parts)

    if template in ("news", "blog"):
        content = (
            m.open("article")
            + f"<h1>{_esc(title)}</h1>"
            + byline
            + (share if template == "news" else "")
            + m.open("body")
            + body_html(paragraphs)
            + m.close("body")
            + m.open("tags")
            + " ".join(f"<a href='/tag/{t}'>#{_esc(t)}</a>" for t in rng.sample(nav, 2))
            + m.close("tags")
            + (share if template == "blog" else "")
            + m.close("article")
            + comments_html(rng.randint(0 if template == "news" else 2, 5))
        )
    elif template == "forum":
        posts_html = []
        for i, post in enumerate(paragraphs):
            who = rng.choice(data["people"])
            posts_html.append(
                m.open("post", f' id="post{page_id + i}"')
                + f"<div class='userinfo'><a href='/u/{i}'>{_esc(who)}</a><br>{_esc(chrome['joined'])}: {year - 3}<br>"
                + f"{rng.randint(1, 3000)}</div><div class='postdate'>{_esc(chrome['posted'])}: {date}</div>"
                + f"<div class='postcontent'>{_esc(post)}</div>"
                + f"<div class='postfoot'><a href='#'>{_esc(chrome['quote'])}</a> <a href='#'>{_esc(chrome['reply'])}</a></div>"
                + m.close("post")
            )
        content = (
            f"<h1>{_esc(title)}</h1>"
            + "".join(posts_html)
            + "<div class='pagination'><a href='?p=2'>2</a> <a href='?p=3'>3</a> »</div>"
        )
    elif template == "product":
        price = (
            f"{rng.randint(5, 90)},{rng.randint(0, 99):02d} €"
            if lang != "en"
            else f"£{rng.randint(5, 90)}.{rng.randint(0, 99):02d}"
        )
        reviews = comments_html(rng.randint(1, 4)).replace(_esc(chrome["comments"]), _esc(chrome["reviews"]), 1)
        content = (
            m.open("product")
            + f"<h1>{_esc(title)}</h1><div class='price'>{_esc(price)}</div><div class='stock'>{_esc(chrome['in_stock'])}</div>"
            + f"<button class='add-to-cart'>{_esc(chrome['add_to_cart'])}</button>"
            + m.open("body")
            + body_html(paragraphs)
            + m.close("body")
            + share
            + m.close("product")
            + reviews
        )
    else:  # boilerplate: a category page that lists nothing yet
        content = f"<h2>{_esc(section)}</h2>" + headlines(rng.randint(2, 5))

    if style == "table":
        w(header_html)
        w('<table width="100%" border="0" cellpadding="4"><tr><td width="200" valign="top">')
        w(sidebar + '</td><td valign="top">' + crumbs + "<font size='2'>" + content + "</font></td></tr>")
        w(f"<tr><td colspan='2'>{footer}</td></tr></table>")
    else:
        w(header_html)
        w(crumbs)
        w(m.open("main") + content + m.close("main"))
        w(sidebar)
        w(footer)
    if paragraphs and rng.random() < 0.3:  # a JavaScript app's hydration state repeats the article in JSON
        state = {"props": {"pageProps": {"article": {"title": title, "body": paragraphs, "id": page_id}}}}
        state_json = json.dumps(state, ensure_ascii=False).replace("</", "<\\/")
        w(f'<script id="__NEXT_DATA__" type="application/json">{state_json}</script>')
    w(
        f'\n<noscript><img src="/pixel.gif?id={page_id}" alt=""></noscript><script>{_js(rng)}</script>\n</body>\n</html>\n'
    )

    document = "".join(out)
    body = document.encode(real, errors="xmlcharrefreplace")
    if real == "utf-8" and rng.random() < 0.05:
        body = b"\xef\xbb\xbf" + body
    elif real == "utf-8" and rng.random() < 0.03:  # a footer include saved in windows-1252: one stray byte
        body = body.replace("©".encode(), b"\xa9", 1)
    return Page(
        html=body,
        main_text=main_text,
        title=title,
        lang=lang,
        charset=real,
        declared_charset=header,
        meta_charset=meta,
        html_lang=html_lang,
        url=url,
        template=template,
        style=style,
        boilerplate=boilerplate,
    )


def hash_str(text: str) -> int:
    """A stable string hash (Python's hash() changes with PYTHONHASHSEED)."""
    value = 0
    for char in text:
        value = (value * 131 + ord(char)) % (1 << 61)
    return value


def make_pages(n: int, seed: int = 0) -> list[Page]:
    """`n` pages cycling through languages, then templates and styles: every combination appears."""
    pages = []
    for i in range(n):
        lang = LANGS[i % len(LANGS)]
        template = TEMPLATES[(i // len(LANGS)) % len(TEMPLATES)]
        style = STYLES[(i // (len(LANGS) * len(TEMPLATES))) % len(STYLES)]
        pages.append(make_page(lang, random.Random(seed * 1_000_003 + i), template, style))
    return pages


if __name__ == "__main__":
    import sys

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/web_pages")
    out.mkdir(parents=True, exist_ok=True)
    for i, page in enumerate(make_pages(int(sys.argv[2]) if len(sys.argv) > 2 else 20)):
        (out / f"{i:04d}-{page.lang}-{page.template}-{page.style}.html").write_bytes(page.html)
    print(out)
