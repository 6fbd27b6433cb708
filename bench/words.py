"""Word pools for the synthetic corpus: medical-journal vocabulary in Persian and English."""
from __future__ import annotations

# Persian words as they appear in Iranian medical abstracts; "\u200c" is the ZWNJ that
# real exports keep inside abstracts (decisions.md Q3).
FA_WORDS = (
    "بیماران", "مطالعه", "نتایج", "درمان", "بررسی", "گروه", "کنترل", "بیمارستان", "پژوهش",
    "سلول\u200cهای", "بنیادی", "عوامل", "خطر", "شیوع", "کودکان", "زنان", "مردان", "سالمندان",
    "دیابت", "فشار", "خون", "قلب", "عروق", "سرطان", "پستان", "ریه", "کبد", "کلیه", "عفونت",
    "ویروس", "باکتری", "آنتی\u200cبیوتیک", "مقاومت", "دارویی", "کارآزمایی", "بالینی", "تصادفی",
    "مقطعی", "توصیفی", "تحلیلی", "پرسشنامه", "داده\u200cها", "آماری", "نرم\u200cافزار", "معنادار",
    "تفاوت", "میانگین", "انحراف", "معیار", "سطح", "سرمی", "ویتامین", "کمبود", "تغذیه", "چاقی",
    "ورزش", "فعالیت", "بدنی", "کیفیت", "زندگی", "سلامت", "روان", "افسردگی", "اضطراب", "استرس",
    "خواب", "دانشجویان", "پرستاران", "پزشکان", "مراقبت", "ویژه", "جراحی", "بیهوشی", "درد",
    "پس", "از", "در", "با", "به", "و", "که", "این", "برای", "بین", "های", "شد", "شدند", "است",
    "بود", "می\u200cشود", "نشان", "داد", "دادند", "ارتباط", "همبستگی", "پیش\u200cبینی", "مدل",
    "رگرسیون", "لجستیک", "نسبت", "شانس", "فاصله", "اطمینان", "نمونه", "حجم", "جمعیت", "استان",
    "شهر", "تهران", "مشهد", "یزد", "بجنورد", "اصفهان", "شیراز", "ایران", "سال", "ماه", "روز",
    "افزایش", "کاهش", "بهبود", "عملکرد", "سیستم", "ایمنی", "التهاب", "ژن", "بیان", "پروتئین",
    "موش", "صحرایی", "آزمایشگاهی", "حیوانی", "بافت", "نخاعی", "عصبی", "مغز", "حافظه", "یادگیری",
)

EN_WORDS = (
    "patients", "study", "results", "treatment", "group", "control", "hospital", "research",
    "stem", "cells", "factors", "risk", "prevalence", "children", "women", "men", "elderly",
    "diabetes", "blood", "pressure", "heart", "vascular", "cancer", "breast", "lung", "liver",
    "kidney", "infection", "virus", "bacteria", "antibiotic", "resistance", "drug", "clinical",
    "trial", "randomized", "cross-sectional", "descriptive", "analytical", "questionnaire", "data",
    "statistical", "software", "significant", "difference", "mean", "standard", "deviation",
    "level", "serum", "vitamin", "deficiency", "nutrition", "obesity", "exercise", "physical",
    "activity", "quality", "life", "health", "mental", "depression", "anxiety", "stress", "sleep",
    "students", "nurses", "physicians", "care", "intensive", "surgery", "anesthesia", "pain",
    "after", "in", "with", "to", "and", "that", "this", "for", "between", "of", "the", "was",
    "were", "is", "showed", "association", "correlation", "prediction", "model", "regression",
    "logistic", "odds", "ratio", "confidence", "interval", "sample", "size", "population",
    "province", "city", "Tehran", "Mashhad", "Yazd", "Bojnurd", "Isfahan", "Shiraz", "Iran",
    "year", "increase", "decrease", "improvement", "function", "immune", "system",
    "inflammation", "gene", "expression", "protein", "rats", "laboratory", "animal", "tissue",
    "spinal", "neural", "brain", "memory", "learning", "outcome", "cohort", "follow-up",
)

EN_FIRST = (
    "Fatemeh", "Zahra", "Maryam", "Ali", "Mohammad", "Hossein", "Reza", "Sara", "Nooshin",
    "Hamideh", "Mehdi", "Amir", "Leila", "Narges", "Hamid", "Saeed", "Elham", "Mina", "Parisa",
)
FA_FIRST = (
    "فاطمه", "زهرا", "مریم", "علی", "محمد", "حسین", "رضا", "سارا", "نوشین",
    "حمیده", "مهدی", "امیر", "لیلا", "نرگس", "حمید", "سعید", "الهام", "مینا", "پریسا",
)
EN_LAST = (
    "Ahmadi", "Hosseini", "Rezaei", "Karimi", "Moradi", "Mohammadi", "Rahimi", "Jafari",
    "Sadeghian-Nodoushan", "Ahmadirad", "Kuchakzade", "Babaloo", "Ghasemi", "Najafi", "Azizi",
)
FA_LAST = (
    "احمدی", "حسینی", "رضایی", "کریمی", "مرادی", "محمدی", "رحیمی", "جعفری",
    "صادقیان ندوشن", "احمدی راد", "کوچک زاده", "بابالو", "قاسمی", "نجفی", "عزیزی",
)

SUBJECTS = (
    ("Basic Sciences", "علوم پایه"), ("Clinical Sciences", "علوم بالینی"),
    ("Public Health", "بهداشت عمومی"), ("Nursing", "پرستاری"), ("Nutrition", "تغذیه"),
)
CONTENT_TYPES = (
    ("Original Article", "مقاله پژوهشی"), ("Review Article", "مقالات مروری"),
    ("Case Report", "گزارش مورد"), ("Short Communication", "مقاله کوتاه"),
)
SECTIONS_EN = ("Introduction:", "Methods", "Results:", "Conclusions: ")
SECTIONS_FA = ("مقدمه:", "روش کار: ", "یافته\u200cها:", "نتیجه\u200cگیری:")
AFFILIATIONS = (
    ("Assistant Professor, Biotechnology Research Center, Shahid Sadoughi University of Medical "
     "Sciences, Yazd, Iran",
     "استادیار، مرکز تحقیقات زیستفناوری، دانشگاه علوم پزشکی شهید صدوقی، یزد، ایران"),
    ("Associate Professor, Department of Nursing, North Khorasan University of Medical Sciences, "
     "Bojnurd, Iran",
     "دانشیار، گروه پرستاری، دانشگاه علوم پزشکی خراسان شمالی، بجنورد، ایران"),
    ("MSc Student, Student Research Committee, Mashhad University of Medical Sciences, Mashhad, Iran",
     "دانشجوی کارشناسی ارشد، کمیته تحقیقات دانشجویی، دانشگاه علوم پزشکی مشهد، مشهد، ایران"),
    ("Professor, Cellular and Molecular Research Center, Iran University of Medical Sciences, "
     "Tehran, Iran",
     "استاد، مرکز تحقیقات سلولی و مولکولی، دانشگاه علوم پزشکی ایران، تهران، ایران"),
)
