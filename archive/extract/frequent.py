"""The characters each language writes most: the evidence encoding detection weighs.

A legacy page's bytes often read as more than one language (GB2312 and
EUC-KR share their byte layout; GBK bytes read as Big5, Shift-JIS or
windows-1251 text too). Mojibake is made of characters a language rarely
uses, while real text is mostly made of its few hundred most frequent ones,
so :mod:`.plausibility` weighs a reading by how many of its characters are here.

The lists are rough frequency lists (everyday Chinese news and chat, both
scripts; everyday Korean), not dictionaries: a character missing here is
only less common, never wrong.
"""

from __future__ import annotations

_HANZI_SIMPLIFIED = (
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里用道"
    "行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实日军者意"
    "无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应战向头文体政美相见被利什"
    "二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员解水名真论处走义"
    "各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件计管期市直德资命山金"
    "指克许统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象完设式色路记南品住告类求"
    "据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改收根干造言联持组每济车亲极林"
    "服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调深商算质团集百需价花党华城石级整"
    "府离况亚请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企八功吗包片史委乎查轻易早曾除农找装广"
    "显吧阿李标谈吃图念六引历首医局突专费号尽另周较注语仅考落青随选列武红响虽推势参希古众构房半节土投某案黑维"
    "革划敌致陈律足态护七兴派孩验责营星够章音跟志底站严巴例防族供效续施留讲型料终答紧黄绝奇察母京段依批群项故"
    "按河米围江织害斗双境客纪采举杀攻父苏密低朝友诉止细愿千值仍男钱破网热助倒育属坐帝限船脸职速刻乐否刚威毛状"
    "率甚独球般普怕弹校苦创假久错承印晚兰试股拿脑预谁益阳若哪微尼继送急血惊伤素药适波夜省初喜卫源食险待述陆习"
    "置居劳财环排福纳欢雷警获模充负云停木游龙树疑层冷洲冲射略范竟句室异激汉村哈策演简卡罪判担州静退既衣您宗积"
    "余痛检差富灵协角占配征修皮挥胜降阶审沉坚善妈刘读啊超免压银买皇养伊怀执副乱抗犯追帮宣佛岁航优怪香著田铁控"
    "税左右份穿艺背阵草脚概恶块顿敢守酒岛托央户烈洋哥索胡款靠评版宝座释景顾弟登货互付伯慢欧换闻危忙核暗姐介坏"
    "讨丽良序升监临亮露永呼味野架域沙掉括舰鱼杂误湾吉减编楚肯测败屋跑梦散温困剑渐封救贵枪缺楼县尚毫移娘朋画班"
    "智亦耳恩短掌恐遗固席松秘谢鲁遇康虑幸均销钟诗藏赶剧票损忽巨炮旧端探湖录叶春乡附吸予礼港雨呀板庭妇归睛饭额"
    "含顺输摇招婚脱补谓督毒油疗旅泽材灭逐莫笔亡鲜词圣择寻厂睡博勒烟授诺伦岸奥唐卖俄炸载洛健堂旁宫喝借君禁阴园"
    "谋宋避抓荣姑孙逃牙束跳顶玉镇雪午练迫爷篇肉嘴馆遍凡础洞卷坦牛宁纸诸训私庄祖丝翻暴森塔默握戏隐熟骨访弱蒙歌"
    "店鬼软典欲萨伙遭盘爸扩盖弄雄稳忘亿刺拥徒姆杨齐赛趣曲刀床迎冰虚玩析窗醒妻透购替塞努休虎扬途侵刑绿兄迅套贸"
    "毕唯谷轮库迹尤竞街促延震弃甲伟麻川申缓潜闪售灯针哲络抵朱埃抱鼓植纯夏忍页杰筑折郑贝尊吴秀混臣雅振染盛怒舞"
    "圆搞狂措姓残秋培迷诚宽宇猛摆梅毁伸摩盟末乃悲拍丁赵侧尾"
    # what channels and their mirrors write every day
    "频订阅码键启址晴冬季糖桂枣炖蛋暖胃店铺价格微信群组视频图片推荐热门评论点赞分享转发链接网站镜像搜索首页"
    "天气温度地铁交通美食文化体育博物馆马拉松公园散步今明昨周早晚元角钱"
)

_HANZI_TRADITIONAL = (
    "們個來國時說這會為對發過後裡經麼學現當沒動還進開從實軍無與長機兩問間頭體見產製話點業關將員應戰種東聲論"
    "處義幾認條係氣題別變電數報結務場計資區隊統張該規萬覺術領確傳師觀識帶導爭運飛風聯組濟車親極辦議證轉準遠"
    "單羅愛擊備連調質團價黨華級離況亞請際約複線滿視須增寫稱農裝廣顯標談圖歷醫專費號盡較語僅隨選紅響雖勢參眾"
    "構節態護興驗責營夠嚴續講終緊黃絕織鬥雙紀舉殺蘇訴細願錢網熱幫屬職樂剛獨彈創錯試腦預誰陽繼驚傷藥適陸習勞"
    "財環納歡獲雲遊龍樹層衝範劉讀銀買養懷執亂歲優鐵藝陣腳惡塊頓島貨歐換聞壞討麗臨誤灣減編測敗夢溫劍漸貴槍縣"
    "畫遺謝魯慮銷鐘詩劇損舊錄葉鄉禮輸補謂療澤滅筆鮮詞聖擇尋廠諾倫賣載陰園謀榮孫頂鎮練爺館礎寧紙諸訓莊絲戲隱"
    "訪軟夥擴蓋穩億齊賽虛購揚綠貿畢輪庫跡競偉緩閃燈針絡鄭貝臺書門頁頻訂閱鍵啟碼區幾鋪應圓棗燉頻鏡像搜尋視頻"
    "圖片讚轉網站點擊熱門評論連結氣溫鐵體館馬園週"
)


def _writable(chars: str, codec: str) -> frozenset[str]:
    found = set()
    for ch in chars:
        try:
            ch.encode(codec)
        except UnicodeEncodeError:
            continue
        found.add(ch)
    return frozenset(found)


#: Frequent Chinese characters in simplified script (all in GB2312).
COMMON_SIMPLIFIED = _writable(_HANZI_SIMPLIFIED, "gb2312")
#: Frequent Chinese characters in traditional script: their own forms, and the frequent
#: characters both scripts write alike (all in Big5).
COMMON_TRADITIONAL = _writable(_HANZI_TRADITIONAL + _HANZI_SIMPLIFIED, "big5")

#: Frequent Korean syllables.
COMMON_HANGUL = frozenset(
    "이다는의에하고가을지기리로사서도자를한어아있대수일보나시인으정주것들게해제라전부만장상스구문그국내성우"
    "조과면와비동경세요여마연소원신니미관위생까적화방학러무오드실식했중진행모개공결습말데회안년치된야물분거단"
    "발통히저때할입계불합명민심없었래며운선간용업당및되음같터트프크르든금양체높교감현반점영각두법산차외함강석"
    "역후본알례워님날많좋재던월번집말씀님께서요즘잘못더또왜어떻게네예녕감사합니다랑겠습니까였죠봐줘해요거야"
    "남북시장금요일부터옆새열립니동쪽서쪽위아래앞뒤속밖곳건물길차로역버스택시비행기배가게식당카페빵밥국물"
)
